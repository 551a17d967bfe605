// @ts-check
import { EmbeddedKafka } from '../../scripts/embedded-kafka.mjs';
import { ensureTopics, splitList } from '../../scripts/kafka-topics.mjs';
import { TEST_TOPICS } from './test-topics.mjs';

/** Starts a real broker for the e2e suite, unless KAFKA_BROKERS points at one. */
export default async function globalSetup() {
  if (!process.env.KAFKA_BROKERS) {
    const started = Date.now();
    const kafka = await EmbeddedKafka.start();
    /** @type {any} */ (globalThis).__embeddedKafka = kafka;
    process.env.KAFKA_BROKERS = kafka.brokers.join(',');
    console.log(`\nEmbedded Kafka at ${process.env.KAFKA_BROKERS} (started in ${Date.now() - started} ms)`);
  }
  await ensureTopics(splitList(process.env.KAFKA_BROKERS), TEST_TOPICS, 3);
}
