import type { RequestListener } from 'node:http';
import { testConfig } from '../testing/fixtures.js';
import { ManagementServer } from './management-server.js';

describe(ManagementServer.name, () => {
  let sut: ManagementServer | undefined;

  afterEach(async () => {
    await sut?.onApplicationShutdown();
  });

  const answerWith =
    (seen: boolean[], server: () => ManagementServer): RequestListener =>
    (request, response) => {
      seen.push(server().received(request));
      response.end('ok');
    };

  it('should serve the handler on a free port with MANAGEMENT_PORT=0, marking what came through it', async () => {
    const seen: boolean[] = [];
    const server = new ManagementServer(testConfig({ HOST: '127.0.0.1', MANAGEMENT_PORT: '0' }));
    sut = server;

    await server.listen(answerWith(seen, () => server));
    const response = await fetch(`${server.url}/health/live`);

    expect(server.enabled).toBe(true);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await response.text()).toBe('ok');
    expect(seen).toEqual([true]);
  });

  it('should write a wildcard address as the loopback, as Nest does', async () => {
    const server = new ManagementServer(testConfig({ HOST: '0.0.0.0', MANAGEMENT_PORT: '0' }));
    sut = server;

    await server.listen(() => undefined);

    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('should listen on nothing without MANAGEMENT_PORT', async () => {
    const server = new ManagementServer(testConfig());
    sut = server;

    await server.listen(() => undefined);

    expect([server.enabled, server.url]).toEqual([false, undefined]);
  });

  it('should stop listening when the application shuts down', async () => {
    const server = new ManagementServer(testConfig({ HOST: '127.0.0.1', MANAGEMENT_PORT: '0' }));
    await server.listen((_, response) => response.end());
    const url = server.url!;

    await server.onApplicationShutdown();

    expect(server.url).toBeUndefined();
    await expect(fetch(url)).rejects.toThrow();
  });
});
