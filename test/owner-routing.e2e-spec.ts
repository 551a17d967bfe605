import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { ensureTopics, splitList } from '../scripts/kafka-topics.mjs';
import { OWNERSHIP } from '../src/ownership/ownership.js';
import type { PartitionOwnershipService } from '../src/ownership/partition-ownership.service.js';
import { UserPartitioner } from '../src/ownership/user-partition.js';
import { MetricsService } from '../src/metrics/metrics.service.js';
import { createTestProducer, type TestProducer } from './support/kafka-producer.js';
import { NodeRouter } from './support/node-router.js';
import { startProductionBuild } from './support/production-build.js';
import { RawStream, TestStream } from './support/sse-client.js';
import { startTestGateway, TEST_ENV, type TestGateway } from './support/test-gateway.js';
import { signToken } from './support/tokens.js';
import { waitFor } from './support/wait-for.js';

/** Topics of this suite only: a keyed topic of 6 partitions and a broadcast topic of 2. */
const KEYED = 'owned-events';
const BROADCAST = 'owned-broadcasts';
const PARTITIONS = 6;
/** Rounds of the numbered flow are produced this often: a steady rate, not a wait. */
const FLOW_INTERVAL_MS = 100;

interface Numbered {
  readonly n: number;
  readonly user: string;
}

describe('Owner routing, KAFKA_CONSUMPTION=partition-owner (e2e)', () => {
  const run = randomUUID().slice(0, 8);
  const partitioner = new UserPartitioner(PARTITIONS);
  const gateways = new Map<string, TestGateway>();
  const streams: Array<TestStream | RawStream> = [];
  let producer: TestProducer;
  let router: NodeRouter;

  /** A user id keyed to `partition`, unique to this run. */
  const userOn = (partition: number, tag: string): string => {
    for (let i = 0; ; i++) {
      const id = `${tag}-${run}-${i}`;
      if (partitioner.partitionOf(id) === partition) return id;
    }
  };
  const ownershipOf = (node: string): PartitionOwnershipService => gateways.get(node)!.app.get(OWNERSHIP);
  /** The owner of each partition index as one instance's map says, undefined while it has none. */
  const mapOf = (node: string): Array<string | undefined> => {
    const ownership = ownershipOf(node);
    return Array.from({ length: PARTITIONS }, (_, p) => ownership.ownerOf(userOn(p, 'map')));
  };

  async function startOwner(node: string): Promise<TestGateway> {
    const gateway = await startTestGateway({
      KAFKA_TOPICS: `${KEYED},${BROADCAST}`,
      KAFKA_BROADCAST_TOPICS: BROADCAST,
      KAFKA_CONSUMPTION: 'partition-owner',
      KAFKA_OWNER_GROUP: `owner-e2e-${run}`,
      GATEWAY_NODE_NAME: node,
    });
    gateways.set(node, gateway);
    router.register(node, gateway.url);
    return gateway;
  }

  async function stopOwner(node: string): Promise<void> {
    // A load balancer stops routing to an instance as it drains.
    router.unregister(node);
    await gateways.get(node)!.close();
    gateways.delete(node);
  }

  /** Every running instance has the same map, warm, naming exactly `nodes`. */
  async function settled(nodes: string[]): Promise<Array<string | undefined>> {
    return waitFor(
      () => {
        const maps = [...gateways.keys()].map((node) => JSON.stringify(mapOf(node)));
        const map = mapOf([...gateways.keys()][0]!);
        const ready = [...gateways.keys()].every((node) => ownershipOf(node).problems().length === 0);
        const named = [...new Set(map)].sort();
        return ready &&
          maps.every((each) => each === maps[0]) &&
          JSON.stringify(named) === JSON.stringify(nodes)
          ? map
          : undefined;
      },
      `the owners ${nodes.join(', ')} to share one warm map`,
      60_000,
    );
  }

  async function open(user: string, query = `topics=${KEYED},${BROADCAST}`): Promise<TestStream> {
    const stream = new TestStream(`${router.url}/events?${query}`, {
      headers: { authorization: `Bearer ${await signToken({ sub: user })}` },
    });
    streams.push(stream);
    return stream;
  }

  /** A stream has started for real once it holds an id: a soft retry carries none. */
  const started = (stream: TestStream, what: string) => waitFor(() => stream.lastId, what);

  const send = (user: string, data: object) =>
    producer.sendKeyed(KEYED, [{ key: user, record: { type: 'notification', data, userId: user } }]);

  const sum = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
    let total = 0;
    for (const gateway of gateways.values()) total += await gateway.metric(name, labels);
    return total;
  };

  beforeAll(async () => {
    const brokers = splitList(process.env.KAFKA_BROKERS);
    await ensureTopics(brokers, [KEYED], PARTITIONS);
    await ensureTopics(brokers, [BROADCAST], 2);
    producer = await createTestProducer();
    router = await NodeRouter.start();
    for (const node of ['gw-1', 'gw-2', 'gw-3']) await startOwner(node);
    await settled(['gw-1', 'gw-2', 'gw-3']);
  }, 180_000);

  afterEach(() => streams.splice(0).forEach((stream) => stream.close()));

  afterAll(async () => {
    await Promise.all([...gateways.keys()].map((node) => stopOwner(node)));
    await router?.close();
    await producer?.close();
  });

  it('should redirect a stream opened at a non-owner to its owner, which serves its events', async () => {
    const map = await settled(['gw-1', 'gw-2', 'gw-3']);
    const user = userOn(map.indexOf('gw-2'), 'redirected');
    const authorization = `Bearer ${await signToken({ sub: user })}`;
    const atGw1 = `${gateways.get('gw-1')!.url}/events?topics=${KEYED}`;

    const redirect = await fetch(atGw1, { headers: { authorization }, redirect: 'manual' });
    expect(redirect.status).toBe(307);
    expect(redirect.headers.get('location')).toBe(`events?topics=${KEYED}&node=gw-2`);
    // The request names the owner but reached another instance: ask again, never loop or fail.
    const retry = await RawStream.open(`${atGw1}&node=gw-2`, { authorization });
    streams.push(retry);
    await retry.waitForEnd();
    expect([retry.response.status, retry.response.headers.get('content-type'), retry.text]).toEqual([
      200,
      'text/event-stream',
      'retry: 200\n: owner-unreachable\n\n',
    ]);

    const before = router.log.length;
    const stream = await open(user, `topics=${KEYED}&node=gw-1`);
    await started(stream, 'the stream to start at its owner');
    expect(router.log.slice(before).map((hop) => [hop.backend, hop.status])).toEqual([
      ['gw-1', 307],
      ['gw-2', 200],
    ]);
    await send(user, { n: 1 });
    await stream.waitForEvent((event) => (event.data as { n: number }).n === 1);
    expect(gateways.get('gw-2')!.bus.subscriberCount).toBe(1);
    expect(
      await gateways.get('gw-1')!.metric('sse_redirects_total', { reason: 'not-owner' }),
    ).toBeGreaterThan(0);
  });

  it('should spend a stream ticket only where its stream starts: a soft retry or a redirect leaves it usable', async () => {
    const map = await settled(['gw-1', 'gw-2', 'gw-3']);
    const user = userOn(map.indexOf('gw-2'), 'ticketed');
    const issued = await fetch(`${gateways.get('gw-1')!.url}/events/tickets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await signToken({ sub: user })}` },
    });
    const { ticket } = (await issued.json()) as { ticket: string };
    const at = (node: string, query = '') =>
      `${gateways.get(node)!.url}/events?topics=${KEYED}&ticket=${encodeURIComponent(ticket)}${query}`;

    // Reaches gw-1 though it names gw-2: a soft retry. Then gw-1 again: a redirect, not a 401.
    const retry = await RawStream.open(at('gw-1', '&node=gw-2'), {});
    streams.push(retry);
    await retry.waitForEnd();
    expect(retry.response.status).toBe(200);
    expect((await fetch(at('gw-1'), { redirect: 'manual' })).status).toBe(307);
    const stream = new TestStream(at('gw-2', '&node=gw-2'), {});
    streams.push(stream);
    await started(stream, 'the stream to start at its owner with the ticket');
    expect((await fetch(at('gw-2', '&node=gw-2'))).status).toBe(401);
  });

  it('should route users of every owner through a round-robin balancer, and broadcast to all of them', async () => {
    const map = await settled(['gw-1', 'gw-2', 'gw-3']);
    const users = Array.from({ length: PARTITIONS }, (_, p) => userOn(p, 'everyone'));
    const clients = await Promise.all(users.map((user) => open(user)));
    await Promise.all(clients.map((client, p) => started(client, `the stream of partition ${p}`)));

    // Each owner holds the streams of its own users, and no other instance holds any.
    const owned = (node: string) => map.filter((owner) => owner === node).length;
    await waitFor(
      () => [...gateways].every(([node, gateway]) => gateway.bus.subscriberCount === owned(node)),
      'each owner to hold the streams of its users',
    );
    for (const user of users) await send(user, { for: user });
    await producer.send(BROADCAST, [{ type: 'notification', data: { all: run }, broadcast: true }], 1);

    for (const [p, client] of clients.entries()) {
      await waitFor(() => client.events.length >= 2, `both events of the user of partition ${p}`);
      expect(client.events.map((event) => event.data)).toEqual(
        expect.arrayContaining([{ for: users[p] }, { all: run }]),
      );
      expect(client.events).toHaveLength(2);
    }
  });

  it('should skip and count a record that is not on its user’s partition, which nobody would read', async () => {
    const map = await settled(['gw-1', 'gw-2', 'gw-3']);
    const p = map.indexOf('gw-3');
    const user = userOn(p, 'misrouted');
    const client = await open(user, `topics=${KEYED}`);
    await started(client, 'the stream to start');
    const before = await sum('kafka_records_invalid_total', { reason: 'misrouted' });

    await producer.send(
      KEYED,
      [{ type: 'notification', data: { n: 'wrong' }, userId: user }],
      (p + 1) % PARTITIONS,
    );
    await waitFor(
      async () => (await sum('kafka_records_invalid_total', { reason: 'misrouted' })) > before,
      'the misrouted record to be counted',
    );
    await send(user, { n: 'right' });
    await client.waitForEvent((event) => (event.data as { n: string }).n === 'right');

    expect(client.events.map((event) => event.data)).toEqual([{ n: 'right' }]);
  });

  /**
   * The numbered flow: users on every partition, two each, get round n (their number n) every
   * FLOW_INTERVAL_MS while `during` changes the group; `during` is given a function that waits
   * until `rounds` more rounds went out. Then every user must hold exactly 1…N, in order, once each.
   */
  async function numberedFlow(
    tag: string,
    during: (roundsAfter: (rounds: number, what: string) => Promise<void>) => Promise<void>,
  ): Promise<void> {
    const users = Array.from({ length: 2 * PARTITIONS }, (_, i) =>
      userOn(i % PARTITIONS, `${tag}${i >= PARTITIONS ? 2 : 1}`),
    );
    const clients = new Map<string, TestStream>();
    for (const user of users) clients.set(user, await open(user, `topics=${KEYED}`));
    await Promise.all([...clients.values()].map((client) => started(client, 'every stream to start')));
    const numbers = (user: string) => clients.get(user)!.events.map((event) => (event.data as Numbered).n);

    let sent = 0;
    let sending: Promise<void> = Promise.resolve();
    const flow = setInterval(() => {
      sending = sending.then(async () => {
        const n = sent + 1;
        await producer.sendKeyed(
          KEYED,
          users.map((user) => ({
            key: user,
            record: { type: 'notification', data: { n, user }, userId: user },
          })),
        );
        sent = n;
      });
    }, FLOW_INTERVAL_MS);
    try {
      await during(async (rounds, what) => {
        const from = sent;
        await waitFor(() => sent >= from + rounds, what, 30_000);
      });
    } finally {
      clearInterval(flow);
      await sending;
    }

    await waitFor(
      () => users.every((user) => numbers(user).length >= sent),
      `every user to receive rounds 1-${sent}`,
      60_000,
    );
    for (const user of users) {
      expect([user, numbers(user)]).toEqual([user, Array.from({ length: sent }, (_, i) => i + 1)]);
    }
  }

  it('should lose and duplicate nothing, for users on every owner, while an instance leaves and another joins', async () => {
    await settled(['gw-1', 'gw-2', 'gw-3']);
    const movedBefore = await sum('sse_streams_closed_total', { reason: 'moved' });
    const hopsBefore = router.log.length;

    await numberedFlow('flow', async (roundsAfter) => {
      await roundsAfter(10, 'the flow to run');
      // A planned leave: gw-3 ends its streams (shutdown), leaves the group, the others take over.
      await stopOwner('gw-3');
      await settled(['gw-1', 'gw-2']);
      await roundsAfter(10, 'the flow to run on two owners');
      // A join: gw-4 takes ⌊6/3⌋ partitions from the others, whose streams end as moved.
      await startOwner('gw-4');
      await settled(['gw-1', 'gw-2', 'gw-4']);
      await roundsAfter(10, 'the flow to run on the new owners');
    });

    expect(await sum('sse_streams_closed_total', { reason: 'moved' })).toBeGreaterThan(movedBefore);
    expect(router.log.slice(hopsBefore).some((hop) => hop.status === 307)).toBe(true);
  }, 240_000);

  it('should lose and duplicate nothing when an owner crashes, once the group notices it is gone', async () => {
    const nodes = [...gateways.keys()].sort();
    // A process of its own, so that it can die without leaving the group or closing a stream.
    const crashing = startProductionBuild({
      ...TEST_ENV,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      KAFKA_TOPICS: `${KEYED},${BROADCAST}`,
      KAFKA_BROADCAST_TOPICS: BROADCAST,
      KAFKA_CONSUMPTION: 'partition-owner',
      KAFKA_OWNER_GROUP: `owner-e2e-${run}`,
      GATEWAY_NODE_NAME: 'gw-crash',
    });
    try {
      const url = await crashing.listening();
      await waitFor(
        async () => (await fetch(`${url}/health/ready`)).status === 200,
        'gw-crash to be ready',
        60_000,
      );
      // The balancer keeps routing to it after the crash: a refused connection sends requests elsewhere.
      router.register('gw-crash', url);
      const map = await settled([...nodes, 'gw-crash'].sort());
      expect(map).toContain('gw-crash');
      const retriesBefore = await sum('sse_redirects_total', { reason: 'soft-retry' });

      await numberedFlow('crash', async (roundsAfter) => {
        await roundsAfter(10, 'the flow to run');
        await crashing.kill();
        // No LeaveGroup: the others take over once its session times out (10 s).
        await settled(nodes);
        await roundsAfter(10, 'the flow to run after the crash');
      });
      // Until the group noticed, its users' clients were told to ask again, never refused.
      expect(await sum('sse_redirects_total', { reason: 'soft-retry' })).toBeGreaterThan(retriesBefore);
    } finally {
      router.unregister('gw-crash');
      await crashing.kill();
    }
  }, 240_000);

  it('should leave every-instance mode as it was: node is ignored, no ownership in health or metrics', async () => {
    const plain = await startTestGateway();
    try {
      const stream = await RawStream.open(`${plain.url}/events?topics=notifications&node=gw-9`, {
        authorization: `Bearer ${await signToken()}`,
      });
      streams.push(stream);
      await stream.waitForText(/^event: checkpoint\n/m, 'the stream to start');
      expect(stream.response.status).toBe(200);

      const ready = (await (await fetch(`${plain.url}/health/ready`)).json()) as { info: object };
      expect(Object.keys(ready.info).sort()).toEqual(['kafka', 'replayBuffer', 'streams']);
      const registry = plain.app.get(MetricsService).registry;
      for (const name of [
        'gateway_owned_partitions',
        'gateway_partition_warmups_total',
        'sse_redirects_total',
      ]) {
        expect([name, registry.getSingleMetric(name)]).toEqual([name, undefined]);
      }
    } finally {
      streams.splice(0).forEach((stream) => stream.close());
      await plain.close();
    }
  });
});

describe('Owner routing when partitions are added to a keyed topic at run time (e2e)', () => {
  const run = randomUUID().slice(0, 8);
  const topic = `owned-grow-${run}`;
  const brokers = splitList(process.env.KAFKA_BROKERS);
  const gateways: TestGateway[] = [];
  const streams: TestStream[] = [];
  let router: NodeRouter;

  const ownershipOf = (gateway: TestGateway): PartitionOwnershipService => gateway.app.get(OWNERSHIP);
  const settledOn = (count: number) =>
    waitFor(
      () =>
        gateways.every((gateway) => {
          const ownership = ownershipOf(gateway);
          return ownership.partitionCount === count && ownership.problems().length === 0;
        }),
      `both owners to share a warm map of ${count} partitions`,
      90_000,
    );

  beforeAll(async () => {
    await ensureTopics(brokers, [topic], 3);
    router = await NodeRouter.start();
    for (const node of ['gw-a', 'gw-b']) {
      const gateway = await startTestGateway({
        KAFKA_TOPICS: topic,
        KAFKA_CONSUMPTION: 'partition-owner',
        KAFKA_OWNER_GROUP: `owner-grow-${run}`,
        GATEWAY_NODE_NAME: node,
        KAFKA_METADATA_REFRESH_MS: '1000',
      });
      gateways.push(gateway);
      router.register(node, gateway.url);
    }
    await settledOn(3);
  }, 180_000);

  afterAll(async () => {
    streams.splice(0).forEach((stream) => stream.close());
    await Promise.all(gateways.map((gateway) => gateway.close()));
    await router?.close();
  });

  it('should key users by the new count, deliver what lands on new partitions, and count no misroute', async () => {
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createPartitions({ topicPartitions: [{ topic, count: 6 }] });
    await admin.disconnect();
    await settledOn(6);

    const partitioner = new UserPartitioner(6);
    const users = [3, 4, 5].map((partition) => {
      for (let i = 0; ; i++)
        if (partitioner.partitionOf(`grown-${run}-${i}`) === partition) return `grown-${run}-${i}`;
    });
    const clients = await Promise.all(
      users.map(async (user) => {
        const stream = new TestStream(`${router.url}/events`, {
          headers: { authorization: `Bearer ${await signToken({ sub: user })}` },
        });
        streams.push(stream);
        await waitFor(() => stream.lastId, `the stream of ${user} to start`);
        return stream;
      }),
    );
    // A producer that starts now knows the six partitions.
    const producer = await createTestProducer();
    try {
      await producer.sendKeyed(
        topic,
        users.map((user) => ({ key: user, record: { type: 'notification', data: { user }, userId: user } })),
      );
    } finally {
      await producer.close();
    }

    for (const [i, client] of clients.entries())
      await client.waitForEvent((event) => (event.data as { user: string }).user === users[i]);
    let misrouted = 0;
    for (const gateway of gateways)
      misrouted += await gateway.metric('kafka_records_invalid_total', { reason: 'misrouted' });
    expect(misrouted).toBe(0);
  }, 180_000);
});
