// @ts-check
/**
 * The benchmark's records, in the gateway's event contract: `{ type, data, userId | broadcast }`,
 * `data` = `{ t, seq }` (plus padding for broadcasts, ~100 B of data), where `t` is the
 * producer's time stamp on the machine's monotonic clock (see stats.mjs), in ms.
 */
import kafkajs from 'kafkajs';
import { monotonicMs } from './stats.mjs';

const { Kafka, logLevel, Partitioners } = kafkajs;

/** A broadcast's `data` is padded to about this many bytes of JSON. */
export const BROADCAST_DATA_BYTES = 100;

/**
 * @typedef {{ key: string | null, value: string, timestamp?: string }} BenchRecord
 */

/**
 * @param {string} type
 * @param {number} seq
 * @param {number} user
 * @returns {BenchRecord}
 */
export function targetedRecord(type, seq, user) {
  const userId = `u${user}`;
  const data = { t: round(monotonicMs()), seq };
  return { key: userId, value: JSON.stringify({ type, data, userId }) };
}

/**
 * @param {string} type
 * @param {number} seq
 * @returns {BenchRecord}
 */
export function broadcastRecord(type, seq) {
  const data = { t: round(monotonicMs()), seq, pad: '' };
  data.pad = 'x'.repeat(Math.max(0, BROADCAST_DATA_BYTES - JSON.stringify(data).length));
  return { key: null, value: JSON.stringify({ type, data, broadcast: true }) };
}

/** Microsecond precision is all the clock has. @param {number} ms */
function round(ms) {
  return Math.round(ms * 1000) / 1000;
}

export class BenchProducer {
  /** @param {string[]} brokers @param {string} topic */
  constructor(brokers, topic) {
    this.topic = topic;
    this.kafka = new Kafka({ brokers, clientId: 'bench-producer', logLevel: logLevel.WARN });
    this.producer = this.kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
    /** Records sent and acknowledged. */
    this.sent = 0;
  }

  async connect() {
    await this.producer.connect();
  }

  /** @param {BenchRecord[]} records */
  async send(records) {
    if (records.length === 0) return;
    await this.producer.send({ topic: this.topic, acks: 1, messages: records });
    this.sent += records.length;
  }

  async disconnect() {
    await this.producer.disconnect();
  }
}
