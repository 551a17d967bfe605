/**
 * A record batch the gateway will not decode reaches the handler as one record in its place, at
 * the batch's last offset, so the partition moves on past it: its value is null and these
 * headers say why, and which records it stood for.
 */
export const SKIPPED_BATCH_HEADER = 'x-gateway-skipped-batch';
/** The first offset of the batch the record stands for. */
export const SKIPPED_FROM_HEADER = 'x-gateway-skipped-from';
/** How many records the batch declared. */
export const SKIPPED_COUNT_HEADER = 'x-gateway-skipped-count';

export const BATCH_SKIP_REASONS = ['too-large', 'undecodable', 'too-many-records'] as const;
/**
 * `too-large`: it would inflate past KAFKA_MAX_DECOMPRESSED_BYTES; `undecodable`: its compressed
 * records do not decode; `too-many-records`: it declares more than KAFKA_MAX_BATCH_RECORDS.
 */
export type BatchSkipReason = (typeof BATCH_SKIP_REASONS)[number];

/** Thrown by a codec for a batch it will not inflate; the fetch decoder stands in for the batch. */
export class SkippedBatch extends Error {
  constructor(
    readonly reason: BatchSkipReason,
    detail?: string,
  ) {
    super(detail === undefined ? reason : `${reason}: ${detail}`);
    this.name = 'SkippedBatch';
  }
}
