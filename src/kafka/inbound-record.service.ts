import { Inject, Injectable, Logger } from '@nestjs/common';
import type { KafkaMessage } from 'kafkajs';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import type { GatewayEvent } from '../log/gateway-event.js';
import { MAX_OFFSET } from '../log/log-position.js';
import { PARTITION_LOG, type PartitionLog } from '../log/partition-log.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { OWNERSHIP, type Ownership } from '../ownership/ownership.js';
import type { ConsumedBatch } from './consumed-batch.js';
import { DeadLetterService, type DeadLetter } from './dead-letter.service.js';
import { parseRecordValue, type InvalidRecordReason, type ParseResult } from './record-parser.js';
import {
  BATCH_SKIP_REASONS,
  SKIPPED_BATCH_HEADER,
  SKIPPED_COUNT_HEADER,
  SKIPPED_FROM_HEADER,
  type BatchSkipReason,
} from './skipped-batch.js';

/**
 * Why a record carries no event: the contract, an offset past what the gateway tracks
 * (MAX_OFFSET), or, in partition-owner mode, a record on a keyed topic that is not on its users'
 * partition (Ownership.misroutes).
 */
type SkipReason = InvalidRecordReason | 'offset-out-of-range' | 'misrouted';

const MISROUTED = { ok: false, reason: 'misrouted' } as const;

/** Offsets of invalid records named per reason in a batch's log line; the rest are counted. */
const LOGGED_OFFSETS = 10;

/**
 * Turns a consumed batch into events of the partition log, in one pass: parses each record against
 * the contract, skips, counts and logs the invalid ones (position and reason only, never a
 * payload) and copies them to the dead-letter topic, then appends the valid ones together.
 */
@Injectable()
export class InboundRecordService {
  private readonly logger = new Logger(InboundRecordService.name);

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(PARTITION_LOG) private readonly log: PartitionLog,
    private readonly metrics: MetricsService,
    private readonly deadLetters: DeadLetterService,
    @Inject(OWNERSHIP) private readonly ownership: Ownership,
  ) {}

  takeBatch(batch: ConsumedBatch): void {
    const { topic, partition } = batch;
    const events: GatewayEvent[] = [];
    const invalid = new Map<SkipReason, number[]>();
    const deadLetters: DeadLetter[] = [];
    // Records re-read while warming up were dead-lettered by whoever read them live.
    const liveFrom = this.log.liveFromOf(topic, partition) ?? 0;
    let records = 0;
    for (const message of batch.records) {
      const offset = Number(message.offset);
      records++;
      const skipped = skipReason(message);
      if (skipped) {
        this.skippedBatch(topic, partition, message, skipped);
        if (offset >= liveFrom)
          deadLetters.push({ source: { topic, partition, offset }, message, reason: skipped });
        continue;
      }
      let parsed: ParseResult | { ok: false; reason: SkipReason } =
        offset > MAX_OFFSET
          ? ({ ok: false, reason: 'offset-out-of-range' } as const)
          : parseRecordValue(message.value, this.config.kafka.maxRecordBytes);
      if (parsed.ok && this.ownership.misroutes(topic, partition, parsed.content.audience))
        parsed = MISROUTED;
      if (parsed.ok) {
        const { type, data, audience } = parsed.content;
        events.push({ topic, partition, offset, type, data, audience, timestamp: Number(message.timestamp) });
        continue;
      }
      let offsets = invalid.get(parsed.reason);
      if (!offsets) invalid.set(parsed.reason, (offsets = []));
      offsets.push(offset);
      if (offset >= liveFrom)
        deadLetters.push({ source: { topic, partition, offset }, message, reason: parsed.reason });
    }
    this.log.append({ ...batch, records: events });
    this.metrics.recordsConsumedOf(topic, records);
    if (invalid.size > 0) this.logInvalid(topic, partition, invalid);
    this.deadLetters.copy(deadLetters);
  }

  /** A batch the fetch decoder did not decode; `marker` stands for it at its last offset. */
  private skippedBatch(
    topic: string,
    partition: number,
    marker: KafkaMessage,
    reason: BatchSkipReason,
  ): void {
    this.metrics.batchSkipped(reason);
    const from = headerText(marker, SKIPPED_FROM_HEADER) ?? '?';
    const count = headerText(marker, SKIPPED_COUNT_HEADER) ?? '?';
    this.logger.warn(
      `Skipped a batch of ${count} records of ${topic}/${partition} at offsets ${from} to ${marker.offset}: ${reason}`,
    );
  }

  private logInvalid(topic: string, partition: number, invalid: Map<SkipReason, number[]>): void {
    const parts: string[] = [];
    for (const [reason, offsets] of invalid) {
      this.metrics.recordsInvalidOf(reason, offsets.length);
      const shown = offsets.slice(0, LOGGED_OFFSETS).join(', ');
      const more = offsets.length > LOGGED_OFFSETS ? ` and ${offsets.length - LOGGED_OFFSETS} more` : '';
      parts.push(`${reason} at ${shown}${more}`);
    }
    // Position and reason only: a payload may hold personal data or secrets.
    this.logger.warn(`Skipped invalid records of ${topic}/${partition}: ${parts.join('; ')}`);
  }
}

function skipReason(message: KafkaMessage): BatchSkipReason | undefined {
  if (message.value !== null) return undefined;
  const reason = headerText(message, SKIPPED_BATCH_HEADER);
  return BATCH_SKIP_REASONS.find((known) => known === reason);
}

function headerText(message: KafkaMessage, name: string): string | undefined {
  const header = message.headers?.[name];
  return Buffer.isBuffer(header) ? header.toString() : undefined;
}
