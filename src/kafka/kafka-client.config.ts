import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import type { GatewayConfig } from '../config/gateway.config.js';
import { kafkaLogCreator } from './kafka-logger.js';

/** Connection settings shared by the consumer transport and the admin client. */
export function kafkaClientConfig(kafka: GatewayConfig['kafka']): KafkaConfig {
  return {
    clientId: kafka.clientId,
    logCreator: kafkaLogCreator,
    brokers: kafka.brokers,
    ssl: kafka.ssl,
    // Short backoff caps, so the consumer is back soon after a broker outage ends.
    retry: { initialRetryTime: 250, maxRetryTime: 5000, retries: 8 },
    // The mechanism and the credentials were validated together.
    ...(kafka.sasl ? { sasl: kafka.sasl as SASLOptions } : {}),
  };
}

/**
 * Every instance must see every record, so each process joins a consumer group of its own, named
 * after the host plus a random suffix. It commits nothing, so the group holds no offsets and Kafka
 * forgets it once its only member leaves.
 */
export function instanceGroupId(prefix: string): string {
  return `${prefix}.${hostname()}.${randomBytes(4).toString('hex')}`;
}
