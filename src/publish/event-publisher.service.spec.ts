import type { ClientKafka } from '@nestjs/microservices';
import type { RecordMetadata } from 'kafkajs';
import { of, throwError, type Observable } from 'rxjs';
import type { AuthUser } from '../auth/auth-user.js';
import { GatewayError } from '../common/gateway-error.js';
import { Registry } from 'prom-client';
import { EveryInstance } from '../ownership/ownership.js';
import { OwnershipMetrics } from '../ownership/ownership.metrics.js';
import { PartitionOwnershipService } from '../ownership/partition-ownership.service.js';
import { UserPartitioner } from '../ownership/user-partition.js';
import { testConfig } from '../testing/fixtures.js';
import { EventPublisherService, PUBLISHER_HEADER } from './event-publisher.service.js';

interface Emitted {
  topic: string;
  message: { key: string | null; value: string; headers: Record<string, string> };
}

/** A producer that records what it is asked to write and acknowledges it, or fails. */
function producerDouble(failure?: Error) {
  const emitted: Emitted[] = [];
  const producer = {
    emit: (topic: string, message: Emitted['message']): Observable<RecordMetadata[]> => {
      emitted.push({ topic, message });
      if (failure) return throwError(() => failure);
      return of([{ topicName: topic, partition: 2, errorCode: 0, baseOffset: '41' }]);
    },
  };
  return { producer: producer as unknown as ClientKafka, emitted };
}

const publisher: AuthUser = {
  id: 'billing-service',
  topics: undefined,
  expiresAt: Date.now() + 60_000,
  publisher: true,
};
const deepArray = (depth: number) => JSON.parse('['.repeat(depth) + '1' + ']'.repeat(depth)) as unknown;

async function refusalOf(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a GatewayError');
}

describe(EventPublisherService.name, () => {
  const config = testConfig({ PUBLISH_RATE_PER_SECOND: '1000' });

  it("should write the event, keyed by its user, with the publisher's subject in a header", async () => {
    const { producer, emitted } = producerDouble();
    const sut = new EventPublisherService(config, producer, new EveryInstance([]));

    const written = await sut.publish(publisher, {
      topic: 'chat',
      type: 'said',
      data: { n: 1 },
      userId: 'alice',
    });

    expect(written).toEqual({ topic: 'chat', partition: 2, offset: '41' });
    expect(emitted).toEqual([
      {
        topic: 'chat',
        message: {
          key: 'alice',
          value: JSON.stringify({ type: 'said', data: { n: 1 }, userId: 'alice' }),
          headers: { [PUBLISHER_HEADER]: 'billing-service' },
        },
      },
    ]);
  });

  it.each<[string, unknown, string[]]>([
    ['an array body', [{ type: 'said', data: 1, userId: 'alice' }], ['the body must be a JSON object']],
    ['a bare deep array', deepArray(6000), ['the body must be a JSON object']],
    ['a string body', 'said', ['the body must be a JSON object']],
    ['a null body', null, ['the body must be a JSON object']],
    [
      'data nested too deeply',
      { type: 'said', data: deepArray(6000), userId: 'a' },
      ['data is nested too deeply'],
    ],
    [
      'an ignored field nested too deeply',
      { type: 'said', data: 1, userId: 'a', extra: deepArray(6000) },
      ['the body is nested too deeply'],
    ],
    [
      'user ids nested too deeply',
      { type: 'said', data: 1, userIds: deepArray(6000) },
      [
        'user ids must be strings of 1-256 characters without control characters',
        'the body is nested too deeply',
      ],
    ],
  ])('should answer %s with a 400 naming the problem, writing nothing', async (_, body, problems) => {
    const { producer, emitted } = producerDouble();
    const sut = new EventPublisherService(config, producer, new EveryInstance([]));

    const refused = await refusalOf(sut.publish(publisher, body));

    expect([refused.status, refused.details]).toEqual([400, problems]);
    expect(emitted).toEqual([]);
  });

  it("should keep a publisher to its token's topics claim with a 403", async () => {
    const { producer, emitted } = producerDouble();
    const sut = new EventPublisherService(config, producer, new EveryInstance([]));
    const narrow = { ...publisher, topics: ['alerts'] };

    const refused = await refusalOf(
      sut.publish(narrow, { topic: 'chat', type: 'said', data: 1, broadcast: true }),
    );
    const byDefault = await refusalOf(sut.publish(narrow, { type: 'said', data: 1, broadcast: true }));
    await sut.publish(narrow, { topic: 'alerts', type: 'said', data: 1, broadcast: true });

    expect([refused.status, refused.message]).toEqual([403, 'This token may not publish to topic(s): chat']);
    // The default topic is the first configured, orders: outside the claim too.
    expect([byDefault.status, byDefault.message]).toEqual([
      403,
      'This token may not publish to topic(s): orders',
    ]);
    expect(emitted.map((record) => record.topic)).toEqual(['alerts']);
  });

  it('should refuse a publisher over its rate with 429, before reading the body', async () => {
    const { producer } = producerDouble();
    const sut = new EventPublisherService(
      testConfig({ PUBLISH_RATE_PER_SECOND: '1' }),
      producer,
      new EveryInstance([]),
    );
    const event = { topic: 'orders', type: 'said', data: 1, broadcast: true };
    await sut.publish(publisher, event);
    await refusalOf(sut.publish(publisher, 'not even an object'));

    const refused = await refusalOf(sut.publish(publisher, event));

    expect([refused.status, refused.retryAfterSeconds]).toEqual([429, 1]);
    await expect(sut.publish({ ...publisher, id: 'another-service' }, event)).resolves.toBeDefined();
  });

  it('should answer 503 when Kafka does not take the event', async () => {
    const { producer } = producerDouble(new Error('This server does not host this topic-partition'));
    const sut = new EventPublisherService(config, producer, new EveryInstance([]));

    const refused = await refusalOf(
      sut.publish(publisher, { topic: 'orders', type: 'said', data: 1, broadcast: true }),
    );

    expect([refused.code, refused.status, refused.retryAfterSeconds]).toEqual(['kafka-unavailable', 503, 1]);
  });

  describe('in partition-owner mode', () => {
    const ownerConfig = testConfig({
      PUBLISH_RATE_PER_SECOND: '1000',
      KAFKA_CONSUMPTION: 'partition-owner',
      KAFKA_BROADCAST_TOPICS: 'alerts',
      GATEWAY_NODE_NAME: 'gw-1',
    });
    const partitioner = new UserPartitioner(6);
    const userOn = (partition: number, prefix = 'user'): string => {
      for (let i = 0; ; i++)
        if (partitioner.partitionOf(`${prefix}-${i}`) === partition) return `${prefix}-${i}`;
    };
    const ownerPublisher = (partitionCount: number | null = 6) => {
      const ownership = new PartitionOwnershipService(
        ownerConfig.ownership!,
        new OwnershipMetrics(new Registry()),
      );
      if (partitionCount !== null) ownership.setPartitionCount(partitionCount);
      const { producer, emitted } = producerDouble();
      return { sut: new EventPublisherService(ownerConfig, producer, ownership), emitted };
    };

    it("should key a userIds event of one partition's users to that partition", async () => {
      const { sut, emitted } = ownerPublisher();
      const users = [userOn(4, 'a'), userOn(4, 'b')];

      await sut.publish(publisher, { topic: 'orders', type: 'said', data: 1, userIds: users });
      await sut.publish(publisher, { topic: 'alerts', type: 'said', data: 1, broadcast: true });

      expect(emitted.map(({ topic, message }) => [topic, message.key])).toEqual([
        ['orders', users[0]],
        ['alerts', null],
      ]);
    });

    it.each<[string, Record<string, unknown>, RegExp]>([
      [
        'a broadcast on a keyed topic',
        { broadcast: true },
        /publish it to a topic of KAFKA_BROADCAST_TOPICS/,
      ],
      [
        'users of several partitions',
        { userIds: [userOn(1), userOn(2)] },
        /users of one event must share a partition of orders \(these are on 2\)/,
      ],
      ['a key of another partition', { userId: userOn(1), key: userOn(3) }, /key must be left out/],
    ])(
      'should refuse %s with a 400, as the consumer would skip it as misrouted',
      async (_, fields, problem) => {
        const { sut, emitted } = ownerPublisher();

        const refused = await refusalOf(
          sut.publish(publisher, { topic: 'orders', type: 'said', data: 1, ...fields }),
        );

        expect(refused.status).toBe(400);
        expect(refused.details).toEqual([expect.stringMatching(problem)]);
        expect(emitted).toEqual([]);
      },
    );

    it('should answer 503 while the partitions of the keyed topics are not known', async () => {
      const { sut, emitted } = ownerPublisher(null);

      const refused = await refusalOf(
        sut.publish(publisher, { topic: 'orders', type: 'said', data: 1, userId: 'alice' }),
      );

      expect([refused.status, refused.retryAfterSeconds]).toEqual([503, 1]);
      expect(emitted).toEqual([]);
    });
  });
});
