// @ts-check
/**
 * The Kafka consume floor: how fast records come out of Kafka into Node at all. A plain kafkajs
 * consumer (own group, from the beginning, no parsing) reads every record of the bench topic, with
 * `eachMessage` and with `eachBatch`; and so does @platformatic/kafka's consumer stream, the
 * maintained pure-JS client that installs here (v1 on Node 20; v2 needs Node 22.22).
 */
import { randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';
import { sleep } from '../harness/processes.mjs';
import { fmt, round } from '../harness/session.mjs';
import { monotonicMs } from '../harness/stats.mjs';

const { Kafka, logLevel } = kafkajs;
const LABEL = '[kafka consume floor]';

/** Records in `topic` now. @param {string[]} brokers @param {string} topic */
async function recordsIn(brokers, topic) {
  const admin = new Kafka({ brokers, clientId: 'bench-consume-floor', logLevel: logLevel.WARN }).admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  return offsets.reduce((sum, { high, low }) => sum + Number(high) - Number(low), 0);
}

/**
 * Waits until `count()` reaches `total`, logging every second; throws `failure()` or at the deadline.
 * @param {import('../harness/session.mjs').Session} session
 * @param {string} what
 * @param {() => number} count
 * @param {number} total
 * @param {number} deadlineMs
 * @param {() => unknown} [failure]
 */
async function readAll(session, what, count, total, deadlineMs, failure = () => undefined) {
  const deadline = monotonicMs() + deadlineMs;
  let lastLine = monotonicMs();
  while (count() < total) {
    const failed = failure();
    if (failed) throw failed instanceof Error ? failed : new Error('the consumer stream failed');
    if (monotonicMs() > deadline)
      throw new Error(`the ${what} consumer read ${count()} of ${total} records in ${deadlineMs / 1000} s`);
    if (monotonicMs() - lastLine >= 1000) {
      lastLine = monotonicMs();
      session.log(`${LABEL} ${what}: ${fmt(count())} of ${fmt(total)} records`);
    }
    await sleep(10);
  }
}

/**
 * @param {import('../harness/session.mjs').Session} session
 * @param {string[]} brokers
 * @param {string} topic
 * @param {'eachMessage' | 'eachBatch'} mode
 */
export async function consumeFloor(session, brokers, topic, mode) {
  const total = await recordsIn(brokers, topic);
  const kafka = new Kafka({ brokers, clientId: 'bench-consume-floor', logLevel: logLevel.WARN });
  const consumer = kafka.consumer({
    groupId: `bench-consume-floor.${randomBytes(4).toString('hex')}`,
    maxWaitTimeInMs: 1000,
  });
  const disconnect = session.onCleanup(`${mode} consumer`, () => consumer.disconnect());
  let count = 0;
  let firstCount = 0;
  /** @type {number | undefined} */
  let first;
  let last = 0;
  /** @param {number} n */
  const took = (n) => {
    const now = monotonicMs();
    if (first === undefined) {
      first = now;
      firstCount = n;
    }
    count += n;
    last = now;
  };
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run(
      mode === 'eachMessage'
        ? { autoCommit: false, eachMessage: () => Promise.resolve(took(1)) }
        : { autoCommit: false, eachBatch: ({ batch }) => Promise.resolve(took(batch.messages.length)) },
    );
    await readAll(session, mode, () => count, total, 120_000);
  } finally {
    await disconnect();
  }
  const seconds = Math.max(1e-3, (last - (first ?? last)) / 1000);
  const result = {
    mode,
    records: count,
    seconds: round(seconds, 3),
    recordsPerSecond: round((count - firstCount) / seconds, 1),
  };
  session.log(`${LABEL} ${mode}: ${fmt(result.recordsPerSecond)} records/s over ${fmt(count)} records`);
  return result;
}

/**
 * @param {import('../harness/session.mjs').Session} session
 * @param {string[]} brokers
 * @param {string} topic
 */
export async function platformaticFloor(session, brokers, topic) {
  const { Consumer } = await import('@platformatic/kafka');
  const total = await recordsIn(brokers, topic);
  const consumer = new Consumer({
    groupId: `bench-consume-floor.${randomBytes(4).toString('hex')}`,
    clientId: 'bench-consume-floor',
    bootstrapBrokers: brokers,
  });
  /** @type {{ close(): Promise<void> } | undefined} */
  let messages;
  const close = session.onCleanup('@platformatic/kafka consumer', async () => {
    // Its stream first: the consumer refuses to leave its group while one consumes.
    await messages?.close();
    await consumer.close();
  });
  let count = 0;
  /** @type {number | undefined} */
  let first;
  let last = 0;
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    messages = stream;
    /** @type {unknown} */
    let failure;
    stream.on('error', (/** @type {unknown} */ err) => (failure = err));
    stream.on('data', () => {
      const now = monotonicMs();
      first ??= now;
      count++;
      last = now;
    });
    await readAll(
      session,
      '@platformatic/kafka',
      () => count,
      total,
      180_000,
      () => failure,
    );
  } finally {
    await close();
  }
  const seconds = Math.max(1e-3, (last - (first ?? last)) / 1000);
  const result = {
    mode: 'platformatic',
    records: count,
    seconds: round(seconds, 3),
    recordsPerSecond: round(count / seconds, 1),
  };
  session.log(
    `${LABEL} @platformatic/kafka: ${fmt(result.recordsPerSecond)} records/s over ${fmt(count)} records`,
  );
  return result;
}
