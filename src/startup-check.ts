import kafkajs from 'kafkajs';
import type { GatewayConfig } from './config/gateway.config.js';
import { kafkaClientConfig } from './kafka/kafka-client.config.js';
import { kafkaUnreachable, StartupError, topicsMissing } from './startup-error.js';

/** Well under the 10 s within which a person at a terminal should hear what is wrong. */
const KAFKA_CHECK_TIMEOUT_MS = 8000;

/**
 * Before Nest starts: a broker answers at KAFKA_BROKERS and every topic of KAFKA_TOPICS exists.
 * Otherwise a StartupError says so in one line, within seconds; the transport's own clients would
 * retry for a quarter of a minute and log every attempt first.
 */
export async function checkKafka(kafka: GatewayConfig['kafka']): Promise<void> {
  const admin = new kafkajs.Kafka({
    ...kafkaClientConfig(kafka),
    logCreator: () => () => undefined,
    connectionTimeout: 3000,
    retry: { retries: 2, initialRetryTime: 300, maxRetryTime: 1000 },
  }).admin();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new StartupError(
            kafkaUnreachable(kafka.brokers, `no answer within ${KAFKA_CHECK_TIMEOUT_MS / 1000} s`),
          ),
        ),
      KAFKA_CHECK_TIMEOUT_MS,
    );
  });
  try {
    const existing = await Promise.race([admin.connect().then(() => admin.listTopics()), deadline]);
    const missing = kafka.topics.filter((topic) => !existing.includes(topic));
    if (missing.length > 0) throw new StartupError(topicsMissing(kafka.brokers, missing));
  } finally {
    clearTimeout(timer);
    void admin.disconnect().catch(() => undefined);
  }
}
