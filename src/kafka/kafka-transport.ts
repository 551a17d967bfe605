import type { INestApplication } from '@nestjs/common';
import { ServerKafka, type KafkaOptions } from '@nestjs/microservices';
import type { Consumer } from '@nestjs/microservices/external/kafka.interface.js';
import { Kafka, logLevel } from 'kafkajs';
import { gatewayConfig, type GatewayConfig } from '../config/gateway.config.js';
import { EventBusService } from '../event-bus/event-bus.service.js';
import { instanceGroupId, kafkaClientConfig } from './kafka-client.config.js';
import { listenToTopics } from './kafka-record.controller.js';

/**
 * Nest's Kafka transport, with one addition: as this instance commits no offsets, a consumer that
 * rejoins its group (after a rebalance or a broker restart) would start from the latest offset and
 * skip records. On every join it seeks each partition to where processing stands instead.
 */
export class GatewayKafkaServer extends ServerKafka {
  constructor(
    options: Required<KafkaOptions>['options'],
    private readonly bus: EventBusService,
  ) {
    super(options);
  }

  override async bindEvents(consumer: Consumer): Promise<void> {
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        for (const partition of partitions) {
          const offset = this.bus.nextOffset(topic, partition);
          if (offset !== undefined) consumer.seek({ topic, partition, offset: offset.toString() });
        }
      }
    });
    await super.bindEvents(consumer);
  }
}

/**
 * Attaches the Kafka consumer to the HTTP app. Consumption starts at the records produced from
 * `since` on, so nothing produced once the gateway is starting is missed.
 */
export async function connectKafkaTransport(app: INestApplication, since = Date.now()): Promise<void> {
  const config = app.get<GatewayConfig>(gatewayConfig.KEY);
  const bus = app.get(EventBusService);
  listenToTopics(config.kafka.topics);
  for (const { topic, partition, offset } of await startOffsets(config.kafka, since)) {
    bus.startAt(topic, partition, BigInt(offset));
  }
  const options: Required<KafkaOptions>['options'] = {
    client: kafkaClientConfig(config.kafka),
    consumer: { groupId: instanceGroupId(config.kafka.groupPrefix), allowAutoTopicCreation: false },
    subscribe: { fromBeginning: false },
    run: { autoCommit: false },
    parser: { keepBinary: true },
    // Group ids are chosen on purpose (see instanceGroupId); no "-server" suffix.
    postfixId: '',
  };
  app.connectMicroservice({ strategy: new GatewayKafkaServer(options, bus) }, { inheritAppConfig: true });
}

async function startOffsets(
  kafka: GatewayConfig['kafka'],
  since: number,
): Promise<Array<{ topic: string; partition: number; offset: string }>> {
  const admin = new Kafka({ ...kafkaClientConfig(kafka), logLevel: logLevel.WARN }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = kafka.topics.filter((topic) => !existing.has(topic));
    if (missing.length > 0) {
      throw new Error(`KAFKA_TOPICS names topics that do not exist in Kafka: ${missing.join(', ')}. Create them first.`);
    }
    const perTopic = await Promise.all(
      kafka.topics.map(async (topic) =>
        (await admin.fetchTopicOffsetsByTimestamp(topic, since)).map(({ partition, offset }) => ({ topic, partition, offset })),
      ),
    );
    return perTopic.flat();
  } finally {
    await admin.disconnect();
  }
}
