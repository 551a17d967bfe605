import { CompressionTypes, Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';

export interface TestProducer {
  /**
   * Sends raw record values (null for a tombstone) to one partition, in order: one request, one
   * record batch, compressed when asked.
   */
  sendRaw(
    topic: string,
    values: Array<string | Buffer | null>,
    partition?: number,
    compression?: CompressionTypes,
  ): Promise<void>;
  /** Sends records as JSON to one partition, in order. */
  send(topic: string, records: object[], partition?: number): Promise<void>;
  /**
   * Sends records as JSON, each keyed by `key` and placed by the default (murmur2) partitioner, as
   * producers must in partition-owner mode; records of one key keep their order.
   */
  sendKeyed(topic: string, records: Array<{ key: string; record: object }>): Promise<void>;
  /** Sends raw values to several topic-partitions in one request; each partition keeps their order. */
  sendMixed(records: Array<{ topic: string; partition: number; value: string }>): Promise<void>;
  close(): Promise<void>;
}

export async function createTestProducer(brokers = process.env.KAFKA_BROKERS ?? ''): Promise<TestProducer> {
  const kafka = new Kafka({
    brokers: brokers.split(','),
    clientId: 'e2e-producer',
    logLevel: logLevel.NOTHING,
  });
  const producer: Producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const sendRaw: TestProducer['sendRaw'] = async (
    topic,
    values,
    partition = 0,
    compression = CompressionTypes.None,
  ) => {
    await producer.send({ topic, compression, messages: values.map((value) => ({ value, partition })) });
  };
  return {
    sendRaw,
    send: (topic, records, partition) =>
      sendRaw(
        topic,
        records.map((record) => JSON.stringify(record)),
        partition,
      ),
    sendKeyed: async (topic, records) => {
      await producer.send({
        topic,
        messages: records.map(({ key, record }) => ({ key, value: JSON.stringify(record) })),
      });
    },
    sendMixed: async (records) => {
      const topics = [...new Set(records.map((record) => record.topic))];
      await producer.sendBatch({
        topicMessages: topics.map((topic) => ({
          topic,
          messages: records
            .filter((record) => record.topic === topic)
            .map(({ partition, value }) => ({ partition, value })),
        })),
      });
    },
    close: () => producer.disconnect(),
  };
}
