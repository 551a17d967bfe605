import type { Consumer, ConsumerConfig, Kafka } from 'kafkajs';

/** kafkajs's own retries for a consumer's requests, when none are given. */
const CONSUMER_RETRIES = 5;

/**
 * A consumer that stays stopped once its owner closes. kafkajs restarts a crashed consumer by
 * itself, and a `disconnect()` that comes while such a restart is still connecting does not stop
 * it: the restart connects afterwards, joins the group and runs with nobody left to stop it (and,
 * once the broker goes, crashes and restarts for ever, keeping the process alive). So a restart
 * is refused once `closed()` says so, and a consumer that joins after that leaves again.
 */
export function closableConsumer(
  kafka: Pick<Kafka, 'consumer'>,
  config: ConsumerConfig,
  closed: () => boolean,
): Consumer {
  const consumer = kafka.consumer({
    ...config,
    retry: {
      retries: CONSUMER_RETRIES,
      ...config.retry,
      restartOnFailure: () => Promise.resolve(!closed()),
    },
  });
  consumer.on(consumer.events.GROUP_JOIN, () => {
    if (closed()) void consumer.disconnect().catch(() => undefined);
  });
  return consumer;
}
