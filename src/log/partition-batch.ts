/**
 * One fetched batch of one partition, as it goes from the transport to the log: the records as
 * Kafka gave them (`PartitionBatch<KafkaMessage>`), then as events (`PartitionBatch<GatewayEvent>`).
 */
export interface PartitionBatch<T> {
  readonly topic: string;
  readonly partition: number;
  /** The offset the consumer fetched from. */
  readonly fetchedOffset: number;
  /** The partition's log end offset, as the broker answered with the batch. */
  readonly highWatermark: number;
  /** The client moved this partition's fetch position because it had left the log. */
  readonly offsetReset: boolean;
  /** The offset after the batch's last record, records that carry no event included. */
  readonly next: number;
  /** In offset order. */
  readonly records: readonly T[];
}

/** What a batch says about where the consumer reads, against where processing stands. */
export type FetchedAt = Pick<PartitionBatch<unknown>, 'fetchedOffset' | 'highWatermark' | 'offsetReset'>;
