// @ts-check
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;

/**
 * Creates the topics that do not exist yet. The gateway never relies on auto-creation.
 * @param {string[]} brokers
 * @param {string[]} topics
 * @param {number} [numPartitions]
 */
export async function ensureTopics(brokers, topics, numPartitions = 3) {
  const admin = new Kafka({ brokers, clientId: 'kafka-sse-gateway-setup', logLevel: logLevel.WARN }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length > 0) {
      await admin.createTopics({
        topics: missing.map((topic) => ({ topic, numPartitions, replicationFactor: 1 })),
        waitForLeaders: true,
      });
    }
  } finally {
    await admin.disconnect();
  }
}

/** @param {string | undefined} value */
export function splitList(value) {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}
