import { Partitioners, type PartitionMetadata } from 'kafkajs';

/**
 * The partition a user's records are on, for a topic of `partitionCount` partitions, when
 * producers key them by user id with Kafka's default partitioner: murmur2 of the key's UTF-8 bytes,
 * made positive, modulo the partition count (the Java client's default, kafkajs's
 * DefaultPartitioner, librdkafka's `murmur2_random`). It is kafkajs's own partitioner, so it
 * cannot drift from what `POST /events` and kafkajs producers do.
 */
export class UserPartitioner {
  private readonly partitioner = Partitioners.DefaultPartitioner();
  private readonly metadata: PartitionMetadata[];

  constructor(readonly partitionCount: number) {
    // Only the count matters for a keyed record: the partitioner takes the key's hash modulo it.
    this.metadata = Array.from({ length: partitionCount }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [],
      isr: [],
      offlineReplicas: [],
    }));
  }

  partitionOf(userId: string): number {
    return this.partitioner({
      topic: '',
      partitionMetadata: this.metadata,
      message: { key: userId, value: null },
    });
  }
}
