import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { InvalidRecordReason } from '../kafka/record-parser.js';
import type { ResetReason } from '../stream/resume-plan.js';

export type StreamCloseReason = 'client' | 'lifetime' | 'slow' | 'expired' | 'shutdown';

/**
 * The gateway's Prometheus metrics, in a registry of its own (several gateways can share a process,
 * as in the e2e suite), with Node's default process metrics.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly streamsOpen = new Gauge({
    name: 'sse_streams_open',
    help: 'Open SSE streams on this instance',
    registers: [this.registry],
  });
  private readonly streamsOpened = new Counter({
    name: 'sse_streams_opened_total',
    help: 'SSE streams opened',
    registers: [this.registry],
  });
  private readonly streamsClosed = new Counter({
    name: 'sse_streams_closed_total',
    help: 'SSE streams closed, by reason: client, lifetime, slow, expired (token) or shutdown',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly recordsConsumed = new Counter({
    name: 'kafka_records_consumed_total',
    help: 'Kafka records consumed, by topic',
    labelNames: ['topic'],
    registers: [this.registry],
  });
  private readonly recordsInvalid = new Counter({
    name: 'kafka_records_invalid_total',
    help: 'Kafka records skipped as invalid, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly eventsDelivered = new Counter({
    name: 'sse_events_delivered_total',
    help: 'Events handed to streams (one per recipient stream)',
    registers: [this.registry],
  });
  private readonly replays = new Counter({
    name: 'sse_replays_total',
    help: 'Resumes served from the replay buffer',
    registers: [this.registry],
  });
  private readonly replayedEvents = new Counter({
    name: 'sse_replayed_events_total',
    help: 'Events sent by resumes',
    registers: [this.registry],
  });
  private readonly resets = new Counter({
    name: 'sse_resets_total',
    help: 'Reset events sent to clients whose last event id could not be served, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly consumerLag = new Gauge({
    name: 'kafka_consumer_lag',
    help: 'Records between this instance and the end of each partition, as of its last fetched batch',
    labelNames: ['topic', 'partition'],
    registers: [this.registry],
  });
  private readonly deliveryLatency = new Histogram({
    name: 'sse_delivery_latency_seconds',
    help: 'From the Kafka record timestamp to the event being written to its streams',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  streamOpened(): void {
    this.streamsOpened.inc();
    this.streamsOpen.inc();
  }

  streamClosed(reason: StreamCloseReason): void {
    this.streamsClosed.inc({ reason });
    this.streamsOpen.dec();
  }

  recordConsumed(topic: string): void {
    this.recordsConsumed.inc({ topic });
  }

  recordInvalid(reason: InvalidRecordReason): void {
    this.recordsInvalid.inc({ reason });
  }

  /** An event reached `streams` streams; `timestamp` is its Kafka record's. */
  eventDelivered(streams: number, timestamp: number, now = Date.now()): void {
    if (streams === 0) return;
    this.eventsDelivered.inc(streams);
    this.deliveryLatency.observe(Math.max(0, now - timestamp) / 1000);
  }

  replayed(events: number): void {
    this.replays.inc();
    this.replayedEvents.inc(events);
  }

  resetSent(reason: ResetReason): void {
    this.resets.inc({ reason });
  }

  lag(topic: string, partition: number, records: number): void {
    this.consumerLag.set({ topic, partition: String(partition) }, records);
  }
}
