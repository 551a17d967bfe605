import { BaseRpcContext } from '@nestjs/microservices';
import type { Consumer, KafkaMessage } from 'kafkajs';

/** The pattern the record handler is bound to: every batch of the configured topics. */
export const KAFKA_RECORD_BATCH = 'kafka.record-batch';

/** One fetched batch of one partition, as the transport hands it to the record handler. */
export interface ConsumedBatch {
  readonly topic: string;
  readonly partition: number;
  /** The offset the consumer fetched from. */
  readonly fetchedOffset: number;
  /** The partition's log end offset, as the broker answered with the batch. */
  readonly highWatermark: number;
  /** The offset of the batch's last record, the records not handed over (control records) included. */
  readonly lastOffset: number;
  /** The client moved this partition's fetch position because it had left the log. */
  readonly offsetReset: boolean;
  /** Records as kafkajs read them: values, keys and headers stay Buffers. */
  readonly messages: readonly KafkaMessage[];
}

/** The context of a record batch handler: `@Ctx() context: KafkaBatchContext`. */
export class KafkaBatchContext extends BaseRpcContext<[ConsumedBatch, Consumer]> {
  getBatch(): ConsumedBatch {
    return this.args[0];
  }

  getConsumer(): Consumer {
    return this.args[1];
  }
}
