import { ConfigError } from './config/gateway.config.js';

/** A start-up problem a person can fix, already said in plain words. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/** kafkajs errors that mean "no broker answered", found anywhere in the chain of causes. */
const UNREACHABLE = /^KafkaJS(ConnectionError|ConnectionClosedError|BrokerNotFound|RequestTimeoutError)$/;

/**
 * What to tell a person at a terminal when the gateway cannot start: one line (the configuration's
 * list of problems is the only longer message), never a stack.
 */
export function startupMessage(err: unknown, brokers: readonly string[] | undefined): string {
  if (err instanceof ConfigError || err instanceof StartupError) return err.message;
  if (brokers && isUnreachable(err)) return kafkaUnreachable(brokers, rootCause(err));
  return `Start-up failed: ${oneLine(err instanceof Error ? err.message : String(err))}`;
}

export function kafkaUnreachable(brokers: readonly string[], cause: string): string {
  return `Kafka is unreachable at ${brokers.join(',')} (KAFKA_BROKERS): ${oneLine(cause)}. Start it, or set KAFKA_BROKERS to a broker that answers.`;
}

/**
 * One line naming the missing topics and the command that creates them. Partitions: 3, what the
 * demo creates; in partition-owner mode every keyed topic needs the same count.
 */
export function topicsMissing(brokers: readonly string[], missing: readonly string[]): string {
  const bootstrap = brokers.join(',');
  const create = missing
    .map(
      (topic) => `kafka-topics.sh --bootstrap-server ${bootstrap} --create --topic ${topic} --partitions 3`,
    )
    .join(' && ');
  const which = missing.length === 1 ? `topic ${missing[0]} does` : `topics ${missing.join(', ')} do`;
  return `KAFKA_TOPICS: ${which} not exist in Kafka at ${bootstrap}. Create ${missing.length === 1 ? 'it' : 'them'}: ${create}`;
}

function isUnreachable(err: unknown): boolean {
  for (let cause = err; cause instanceof Error; cause = cause.cause) {
    if (UNREACHABLE.test(cause.name)) return true;
  }
  return false;
}

/** The innermost message: kafkajs wraps "connect ECONNREFUSED" in retries-exceeded errors. */
function rootCause(err: unknown): string {
  let cause = err;
  while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
  return cause instanceof Error ? cause.message : String(cause);
}

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim();
