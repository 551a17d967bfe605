import { BaseRpcContext } from '@nestjs/microservices';
import type { Consumer, KafkaMessage } from 'kafkajs';
import type { PartitionBatch } from '../log/partition-batch.js';

/** The pattern the record handler is bound to: every batch of the configured topics. */
export const KAFKA_RECORD_BATCH = 'kafka.record-batch';

/** One fetched batch of one partition, as the transport hands it to the record handler. */
export type ConsumedBatch = PartitionBatch<KafkaMessage>;

/** The context of a record batch handler: `@Ctx() context: KafkaBatchContext`. */
export class KafkaBatchContext extends BaseRpcContext<[ConsumedBatch, Consumer]> {
  getBatch(): ConsumedBatch {
    return this.args[0];
  }

  getConsumer(): Consumer {
    return this.args[1];
  }
}
