import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { H2EventSource } from './support/h2-event-source.js';
import { createTestProducer, type TestProducer } from './support/kafka-producer.js';
import { nginxOrReason, startNginx, type Nginx } from './support/nginx.js';
import { startProductionBuild, type ProductionBuild } from './support/production-build.js';
import { TEST_ENV } from './support/test-gateway.js';
import { signToken } from './support/tokens.js';
import { waitFor } from './support/wait-for.js';

const nginx = nginxOrReason();
const withNginx = 'binary' in nginx ? describe : describe.skip;
const skipped = 'reason' in nginx ? ` (skipped: ${nginx.reason})` : '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

interface Gateway {
  readonly name: string;
  readonly address: string;
  readonly process: ProductionBuild;
  streamsOpen(): Promise<number>;
}

/** A production build (`npm start`), as a deployment runs it: its own process, its management port. */
async function startGateway(name: string, env: Record<string, string>): Promise<Gateway> {
  const port = await freePort();
  const app = startProductionBuild({
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
    ...TEST_ENV,
    PORT: String(port),
    MANAGEMENT_PORT: '0',
    // No heartbeat during a test: an event held back by the proxy would have nothing to push it out.
    SSE_HEARTBEAT_MS: '60000',
    SHUTDOWN_DELAY_MS: '2000',
    LOG_LEVEL: 'info',
    ...env,
  });
  await app.listening();
  const management = app.managementUrl()!;
  await waitFor(
    async () => (await fetch(`${management}/health/ready`)).status === 200,
    `${name} to be ready`,
    60_000,
  );
  return {
    name,
    address: `127.0.0.1:${port}`,
    process: app,
    streamsOpen: async () => {
      const text = await (await fetch(`${management}/metrics`)).text();
      return Number(/^sse_streams_open (\d+)/m.exec(text)?.[1] ?? NaN);
    },
  };
}

/**
 * The gateway behind Debian's nginx with the shipped configuration (deploy/nginx/), over TLS and
 * HTTP/2, in front of two production builds: what users run in front of it, tested.
 */
withNginx(`Behind nginx with the shipped configuration${skipped} (e2e)`, () => {
  const binary = 'binary' in nginx ? nginx.binary : '';
  const run = randomUUID().slice(0, 8);
  let producer: TestProducer;
  const sources: H2EventSource[] = [];

  beforeAll(async () => {
    producer = await createTestProducer();
  });

  afterEach(() => sources.splice(0).forEach((source) => source.close()));

  afterAll(() => producer?.close());

  const open = async (proxy: Nginx, path: string, user: string, options = {}): Promise<H2EventSource> => {
    const source = new H2EventSource(
      proxy.url,
      proxy.ca,
      path,
      { authorization: `Bearer ${await signToken({ sub: user, expiresIn: 600 })}` },
      options,
    );
    sources.push(source);
    return source;
  };
  const numbers = (source: H2EventSource) => source.events.map((event) => (event.data as { n: number }).n);

  describe('every instance reads every record', () => {
    let a: Gateway;
    let b: Gateway;
    let proxy: Nginx;

    beforeAll(async () => {
      [a, b] = [await startGateway('a', {}), await startGateway('b', {})];
      proxy = await startNginx(binary, {
        port: await freePort(),
        upstream: [a.address, b.address],
        nodes: {},
      });
    }, 120_000);

    afterAll(async () => {
      await proxy?.stop();
      await Promise.all([a?.process.stop(), b?.process.stop()]);
    });

    const send = (user: string, from: number, to: number) =>
      producer.send(
        'notifications',
        Array.from({ length: to - from + 1 }, (_, i) => ({
          type: 'notification',
          data: { n: from + i },
          userId: user,
        })),
        0,
      );

    it('should deliver an event over HTTP/2 as soon as it is produced, with nothing held back', async () => {
      const user = `proxied-${run}`;
      const source = await open(proxy, '/events?topics=notifications', user);
      await source.waitForOpen();

      await send(user, 1, 1);

      // Well within the heartbeat, which is a minute here: a buffering proxy would hold it longer.
      await source.waitForEvent((event) => event.type === 'notification', 'the event through nginx', 5000);
      expect(source.alpn).toBe('h2');
      expect(numbers(source)).toEqual([1]);
    });

    it('should resume exactly through the proxy, on whichever instance it lands', async () => {
      const user = `resumed-${run}`;
      const first = await open(proxy, '/events?topics=notifications', user);
      await first.waitForOpen();
      await send(user, 1, 3);
      await waitFor(() => first.events.length === 3, 'events 1-3');
      first.close();

      await send(user, 4, 6);
      const second = await open(proxy, '/events?topics=notifications', user, { lastEventId: first.lastId });
      await second.waitForOpen();
      await send(user, 7, 7);

      await waitFor(() => second.events.length >= 4, 'events 4-7');
      expect(numbers(second)).toEqual([4, 5, 6, 7]);
      expect(second.resets).toEqual([]);
    });

    it('should move the clients of a draining instance to the other, losing nothing', async () => {
      const users = Array.from({ length: 6 }, (_, i) => `drained-${i}-${run}`);
      const clients = await Promise.all(
        users.map((user) => open(proxy, '/events?topics=notifications', user)),
      );
      await Promise.all(clients.map((client) => client.waitForOpen()));
      const onA = clients.filter((client) => client.hops[0]?.servedBy === a.address);
      expect(onA.length).toBeGreaterThan(0);
      expect(onA.length).toBeLessThan(clients.length);

      let sent = 0;
      let drained = false;
      let roundsAfter = 0;
      const flow = (async () => {
        while (roundsAfter < 10) {
          sent++;
          await Promise.all(users.map((user) => send(user, sent, sent)));
          if (drained) roundsAfter++;
          await new Promise((next) => setTimeout(next, 100));
        }
      })();
      await waitFor(() => sent >= 5, 'the flow to start');
      a.process.signal('SIGTERM');
      await a.process.exited;
      drained = true;
      await flow;

      for (const [i, client] of clients.entries()) {
        await waitFor(
          () => client.events.length >= sent || client.failure,
          `${users[i]}'s ${sent} events`,
          30_000,
        );
        expect([users[i], client.failure, numbers(client)]).toEqual([
          users[i],
          undefined,
          Array.from({ length: sent }, (_, n) => n + 1),
        ]);
      }
      // nginx names every instance it tried: the one that was gone, then the one that answered.
      for (const client of onA) expect(client.hops.at(-1)?.servedBy?.split(', ').at(-1)).toBe(b.address);
      expect(await b.streamsOpen()).toBe(users.length);
    });
  });

  describe('partition-owner mode', () => {
    let a: Gateway;
    let b: Gateway;
    let proxy: Nginx;
    const owners = {
      KAFKA_TOPICS: 'orders',
      KAFKA_CONSUMPTION: 'partition-owner',
      KAFKA_OWNER_GROUP: `nginx-e2e-${run}.owners`,
      KAFKA_GROUP_PREFIX: `nginx-e2e-${run}`,
    };

    beforeAll(async () => {
      [a, b] = await Promise.all([
        startGateway('gw-a', { ...owners, GATEWAY_NODE_NAME: 'gw-a' }),
        startGateway('gw-b', { ...owners, GATEWAY_NODE_NAME: 'gw-b' }),
      ]);
      proxy = await startNginx(binary, {
        port: await freePort(),
        upstream: [a.address, b.address],
        nodes: { 'gw-a': a.address, 'gw-b': b.address },
      });
    }, 120_000);

    afterAll(async () => {
      await proxy?.stop();
      await Promise.all([a?.process.stop(), b?.process.stop()]);
    });

    it('should send node=X to X, so that a redirected stream reaches its owner at once', async () => {
      const user = `owned-${run}`;
      // Through the other instance first: it redirects to the owner, if it is not the owner itself.
      const probe = await open(proxy, '/events?topics=orders&node=gw-a', user, { reconnect: false });
      await probe.waitForOpen();
      const owner = probe.hops.at(-1)!.servedBy === a.address ? a : b;
      if (owner === b) {
        expect(probe.hops.map((hop) => [hop.status, hop.servedBy])).toEqual([
          [307, a.address],
          [200, b.address],
        ]);
        expect(probe.hops[1]!.path).toBe('/events?topics=orders&node=gw-b');
      }
      probe.close();

      // Every request naming the owner is the owner's stream: never a hop elsewhere, never a retry.
      for (let attempt = 0; attempt < 6; attempt++) {
        const direct = await open(proxy, `/events?topics=orders&node=${owner.name}`, user, {
          reconnect: false,
        });
        await direct.waitForOpen();
        expect(direct.hops.map((hop) => [hop.status, hop.servedBy, hop.stream])).toEqual([
          [200, owner.address, true],
        ]);
        direct.close();
      }

      const stream = await open(proxy, `/events?topics=orders&node=${owner.name}`, user);
      await stream.waitForOpen();
      await producer.sendKeyed('orders', [
        { key: user, record: { type: 'notification', data: { n: 1 }, userId: user } },
      ]);
      await stream.waitForEvent((event) => event.type === 'notification', 'the owner’s event through nginx');
    });

    it('should send a node name it does not know to any instance, which serves or redirects to the owner', async () => {
      const user = `unknown-node-${run}`;
      const source = await open(proxy, '/events?topics=orders&node=gw-gone', user, { reconnect: false });

      await source.waitForOpen();
      const last = source.hops.at(-1)!;
      expect(last).toMatchObject({ status: 200, stream: true });
      // Served where it landed, or redirected from there to the owner, which then served it.
      if (source.hops.length > 1)
        expect(last.path).toBe(`/events?topics=orders&node=${last.servedBy === a.address ? 'gw-a' : 'gw-b'}`);
    });
  });
});
