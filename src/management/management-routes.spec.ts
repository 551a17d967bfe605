import { isManagementPath } from './management-routes.js';

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
