import { parseGatewayConfig, type GatewayConfig } from '../config/gateway.config.js';
import { EventBusService } from '../event-bus/event-bus.service.js';
import type { Audience, GatewayEvent } from '../log/gateway-event.js';
import { LogPosition } from '../log/log-position.js';
import { PartitionLogService } from '../log/partition-log.service.js';
import { MetricsService } from '../metrics/metrics.service.js';

/** Shared fixtures of the unit specs: configuration, events, a log and its bus. Not part of the build. */

const BASE_ENV = {
  KAFKA_BROKERS: 'kafka:9092',
  KAFKA_TOPICS: 'orders,chat,alerts',
  JWT_SECRET: 'x'.repeat(32),
  JWT_AUDIENCE: 'gateway',
};

/** The configuration of the specs, with `env` on top of the shared defaults. */
export function testConfig(env: Record<string, string> = {}): GatewayConfig {
  return parseGatewayConfig({ ...BASE_ENV, ...env });
}

export const alice: Audience = { kind: 'user', userId: 'alice' };
export const bob: Audience = { kind: 'user', userId: 'bob' };
export const everyone: Audience = { kind: 'broadcast' };

export function eventOf(topic: string, partition: number, offset: number, audience: Audience): GatewayEvent {
  return {
    topic,
    partition,
    offset,
    audience,
    timestamp: Date.now(),
    type: 'changed',
    data: `{"n":${offset}}`,
  };
}

export function positionOf(entries: Array<[string, number, number]>, topics: string[] = []): LogPosition {
  const position = LogPosition.empty();
  for (const topic of topics) position.addTopic(topic);
  for (const [topic, partition, offset] of entries) position.set(topic, partition, offset);
  return position;
}

/**
 * A partition log on the test configuration, with every partition of `partitions` started at
 * offset 0, followed by its event bus.
 */
export function newLog(
  partitions: Array<[string, number]> = [
    ['orders', 0],
    ['orders', 1],
    ['chat', 0],
  ],
  config = testConfig(),
): { log: PartitionLogService; bus: EventBusService; metrics: MetricsService } {
  const metrics = new MetricsService();
  const log = new PartitionLogService(config, metrics);
  const bus = new EventBusService(log);
  for (const [topic, partition] of partitions) log.startPartition(topic, partition, 0, 0);
  return { log, bus, metrics };
}

/** Appends events to the log as Kafka would: one batch per event, fetched where processing stands. */
export function publish(log: PartitionLogService, ...events: GatewayEvent[]): number {
  let delivered = 0;
  for (const event of events) {
    const fetchedOffset = log.nextOffset(event.topic, event.partition) ?? event.offset;
    delivered += log.append({
      topic: event.topic,
      partition: event.partition,
      fetchedOffset: Math.min(fetchedOffset, event.offset),
      highWatermark: event.offset + 1,
      offsetReset: false,
      next: event.offset + 1,
      records: [event],
    });
  }
  return delivered;
}
