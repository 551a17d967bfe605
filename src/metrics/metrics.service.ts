import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { FastHistogram } from './fast-histogram.js';
import { LiveHeap } from './live-heap.js';

/**
 * The gateway's Prometheus metrics, in a registry of its own (several gateways can share a process,
 * as in the e2e suite), with Node's default process metrics.
 */
@Injectable()
export class MetricsService implements OnModuleDestroy {
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
    help: 'SSE streams closed, by reason: client, lifetime, slow, expired (token), shutdown or unavailable',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly slowBacklog = new Gauge({
    name: 'sse_slow_stream_backlog_max_chars',
    help: 'The most a stream dropped for not reading held when it was dropped, queued and in its socket (bounded by 256 KiB plus one frame)',
    registers: [this.registry],
  });
  private largestSlowBacklog = 0;
  private readonly catchUps = new Counter({
    name: 'gateway_catchups_total',
    help: 'Catch-ups from Kafka for resumes older than the replay store: started (a pass over a partition), joined (a resume that joined a running pass), beyond-horizon (a resume refused for RESUME_HORIZON_RECORDS)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly catchUpRecords = new Counter({
    name: 'gateway_catchup_records_total',
    help: 'Records read from Kafka by catch-up passes (scanned), and events they handed to resuming streams (served)',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  private readonly catchUpLagRecords = new Gauge({
    name: 'gateway_catchup_lag_records',
    help: 'Records the running catch-up passes still have to read',
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
  private readonly deadLetters = new Counter({
    name: 'kafka_dead_letters_total',
    help: 'Invalid records copied to the dead-letter topic, by outcome: copied, failed or overflow',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly batchesSkipped = new Counter({
    name: 'kafka_batches_skipped_total',
    help: 'Record batches skipped, by reason: too-large (past KAFKA_MAX_DECOMPRESSED_BYTES), too-many-records (past KAFKA_MAX_BATCH_RECORDS) or undecodable',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly discontinuities = new Counter({
    name: 'kafka_log_discontinuities_total',
    help: 'Partitions whose log changed under the gateway (recreated topic, retention, failover), by topic',
    labelNames: ['topic'],
    registers: [this.registry],
  });
  private readonly consumerRestarts = new Counter({
    name: 'kafka_consumer_restarts_total',
    help: 'Kafka consumers recreated after the previous one stopped, by cause',
    labelNames: ['cause'],
    registers: [this.registry],
  });
  private readonly replayBytes = new Gauge({
    name: 'sse_replay_buffer_bytes',
    help: 'Heap the replay buffer takes, by its own accounting',
    registers: [this.registry],
  });
  private readonly replayEvents = new Gauge({
    name: 'sse_replay_buffer_events',
    help: 'Events held in the replay buffer',
    registers: [this.registry],
  });
  private readonly consumerLag = new Gauge({
    name: 'kafka_consumer_lag',
    help: 'Records between this instance and the end of each partition, as of its last fetched batch',
    labelNames: ['topic', 'partition'],
    registers: [this.registry],
  });
  private readonly deliveryLatency = new FastHistogram(
    'sse_delivery_latency_seconds',
    'From the Kafka record timestamp to the event being handed to its streams',
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    this.registry,
  );

  private readonly liveHeapBytes = new Gauge({
    name: 'gateway_heap_live_bytes',
    help: 'V8 heap in use just after the last major collection: the live heap, which a leak raises and heap V8 keeps committed but free does not',
    registers: [this.registry],
  });
  private readonly liveHeap = new LiveHeap((bytes) => this.liveHeapBytes.set(bytes));

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  onModuleDestroy(): void {
    this.liveHeap.stop();
  }

  streamOpened(): void {
    this.streamsOpened.inc();
    this.streamsOpen.inc();
  }

  /** A stream closed; one dropped for not reading held `heldAtDrop` characters then. */
  streamClosed(reason: string, heldAtDrop = 0): void {
    this.streamsClosed.inc({ reason });
    this.streamsOpen.dec();
    if (heldAtDrop > this.largestSlowBacklog) {
      this.largestSlowBacklog = heldAtDrop;
      this.slowBacklog.set(heldAtDrop);
    }
  }

  recordsConsumedOf(topic: string, records: number): void {
    if (records > 0) this.recordsConsumed.inc({ topic }, records);
  }

  recordsInvalidOf(reason: string, records = 1): void {
    this.recordsInvalid.inc({ reason }, records);
  }

  /** Events of a batch reached `deliveries` streams in all. */
  delivered(deliveries: number): void {
    if (deliveries > 0) this.eventsDelivered.inc(deliveries);
  }

  /** An event was handed to its streams `latencyMs` after its record's timestamp. */
  deliveryLatencyMs(latencyMs: number): void {
    this.deliveryLatency.observe(Math.max(0, latencyMs) / 1000);
  }

  deadLetter(outcome: 'copied' | 'failed' | 'overflow', records = 1): void {
    this.deadLetters.inc({ outcome }, records);
  }

  batchSkipped(reason: string): void {
    this.batchesSkipped.inc({ reason });
  }

  logDiscontinuity(topic: string): void {
    this.discontinuities.inc({ topic });
  }

  consumerRestarted(cause: string): void {
    this.consumerRestarts.inc({ cause });
  }

  replayStore(bytes: number, events: number): void {
    this.replayBytes.set(bytes);
    this.replayEvents.set(events);
  }

  replayed(events: number): void {
    this.replays.inc();
    this.replayedEvents.inc(events);
  }

  catchUp(outcome: 'started' | 'joined' | 'beyond-horizon'): void {
    this.catchUps.inc({ outcome });
  }

  catchUpRecordsOf(kind: 'scanned' | 'served', records: number): void {
    if (records > 0) this.catchUpRecords.inc({ kind }, records);
  }

  catchUpLag(records: number): void {
    this.catchUpLagRecords.set(records);
  }

  resetSent(reason: string): void {
    this.resets.inc({ reason });
  }

  lag(topic: string, partition: number, records: number): void {
    this.consumerLag.set({ topic, partition: String(partition) }, records);
  }

  /** The instance no longer reads the partition: a stale lag would read as falling behind. */
  forgetLag(topic: string, partition: number): void {
    this.consumerLag.remove({ topic, partition: String(partition) });
  }
}
