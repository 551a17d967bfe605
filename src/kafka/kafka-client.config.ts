import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import type { GatewayConfig } from '../config/gateway.config.js';
import { kafkaLogCreator, type KafkaLogHooks } from './kafka-logger.js';

/** Connection settings shared by the consumer transport, the admin client and the producers. */
export function kafkaClientConfig(kafka: GatewayConfig['kafka'], hooks?: KafkaLogHooks): KafkaConfig {
  return {
    clientId: kafka.clientId,
    logCreator: kafkaLogCreator(hooks),
    brokers: kafka.brokers,
    ssl: kafka.ssl,
    // Short backoff caps, so the consumer is back within seconds of a broker outage's end.
    retry: { initialRetryTime: 250, maxRetryTime: 2000, retries: 10 },
    // The mechanism and the credentials were validated together.
    ...(kafka.sasl ? { sasl: kafka.sasl as SASLOptions } : {}),
  };
}

/**
 * Every instance must see every record, so each consumer joins a group of its own, named after
 * the host plus a random suffix; a replaced consumer gets a new one. It commits nothing, so the
 * group holds no offsets and Kafka forgets it once its only member leaves.
 */
export function instanceGroupId(prefix: string): string {
  return `${prefix}.${hostname()}.${randomBytes(4).toString('hex')}`;
}
