import type { IncomingMessage, ServerResponse } from 'node:http';
import { isManagementPath, separateManagementRoutes } from './management-routes.js';
import type { ManagementServer } from './management-server.js';

describe(isManagementPath.name, () => {
  it.each([
    '/metrics',
    '/health/live',
    '/health/ready',
    '/docs',
    '/docs/json',
    '/docs/swagger-ui.css',
    '/metrics?x=1',
    '/METRICS',
    '/Health/Live',
    '/metrics/',
    '//metrics',
    '/%6detrics',
    '/health%2Flive',
    '/docs/%73wagger-ui.css',
  ])('should take %p for an operational route, as Express would route it', (url) => {
    expect(isManagementPath(url)).toBe(true);
  });

  it.each([
    '/',
    '/events',
    '/events?topics=metrics',
    '/events/tickets',
    '/demo/token',
    '/metricsx',
    '/healthz',
    '/documents',
  ])('should take %p for a public route', (url) => {
    expect(isManagementPath(url)).toBe(false);
  });
});

describe(separateManagementRoutes.name, () => {
  /** What the middleware does with `url` arriving on the public port (or the management one). */
  function route(url: string, options: { enabled?: boolean; viaManagement?: boolean } = {}): number | 'next' {
    const { enabled = true, viaManagement = false } = options;
    const management = { enabled, received: () => viaManagement } as unknown as ManagementServer;
    let status: number | 'next' = 'next';
    const response = {
      headersSent: false,
      writeHead: (code: number) => (status = code),
      end: () => undefined,
    } as unknown as ServerResponse;
    separateManagementRoutes(management)(
      { url, method: 'GET' } as IncomingMessage,
      response,
      () => undefined,
    );
    return status;
  }

  it.each([
    'http://gateway.test/metrics',
    'http://gateway.test/health/ready',
    'https://x/docs',
    '*',
    'x:443',
  ])(
    'should refuse the target %p, which is not a path, on either port and with or without a management port',
    (url) => {
      expect([route(url), route(url, { viaManagement: true }), route(url, { enabled: false })]).toEqual([
        400, 400, 400,
      ]);
    },
  );

  it('should answer operational routes on the management port only, and the others on the public port only', () => {
    expect(route('/metrics')).toBe(404);
    expect(route('/metrics', { viaManagement: true })).toBe('next');
    expect(route('/events')).toBe('next');
    expect(route('/events', { viaManagement: true })).toBe(404);
    expect(route('/metrics', { enabled: false })).toBe('next');
  });
});
