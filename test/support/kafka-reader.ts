import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import { waitFor } from './wait-for.js';

export interface ReadRecord {
  readonly key: string | undefined;
  readonly value: string | undefined;
  readonly headers: Record<string, string>;
}

/** The record at one position of the log, as a consumer of its own reads it. */
export async function readRecord(
  topic: string,
  partition: number,
  offset: string,
  brokers = process.env.KAFKA_BROKERS ?? '',
): Promise<ReadRecord> {
  const kafka = new Kafka({
    brokers: brokers.split(','),
    clientId: 'e2e-reader',
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: `e2e-reader-${randomUUID()}` });
  let found: ReadRecord | undefined;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ partition: at, message }) => {
        if (at === partition && message.offset === offset) {
          found = {
            key: message.key?.toString(),
            value: message.value?.toString(),
            headers: textHeaders(message.headers),
          };
        }
        return Promise.resolve();
      },
    });
    consumer.seek({ topic, partition, offset });
    return await waitFor(() => found, `the record at ${topic}/${partition}/${offset}`, 30_000);
  } finally {
    await consumer.disconnect();
  }
}

function textHeaders(headers: IHeaders | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers ?? {}).map(([name, value]) => [
      name,
      Buffer.isBuffer(value) ? value.toString() : String(value),
    ]),
  );
}
