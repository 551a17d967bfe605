import { Logger } from '@nestjs/common';
import { logLevel, type logCreator } from 'kafkajs';

/**
 * Errors kafkajs logs at ERROR although it retries them as a matter of course, e.g. while a new
 * consumer group's coordinator is being loaded. They are warnings here.
 */
const ROUTINE_ERRORS = [
  'The group coordinator is not available',
  'This is not the correct coordinator for this group',
  "The coordinator is loading and hence can't process requests",
];

/** kafkajs says so, and only so, when it moves a consumer whose offset left the log. */
const OFFSET_RESET = 'Offset out of range, resetting to default offset';

export interface KafkaLogHooks {
  /** The client moved a partition's fetch position because it was out of range. */
  offsetReset?(topic: string, partition: number): void;
}

/** kafkajs logs through Nest's logger, with routine retried errors downgraded. */
export function kafkaLogCreator(hooks: KafkaLogHooks = {}): logCreator {
  return () => {
    const logger = new Logger('Kafka');
    return ({ level, log }) => {
      const { message, error, ...extra } = log;
      if (
        message === OFFSET_RESET &&
        typeof extra['topic'] === 'string' &&
        typeof extra['partition'] === 'number'
      ) {
        hooks.offsetReset?.(extra['topic'], extra['partition']);
      }
      const text = `${message}${error ? `: ${String(error)}` : ''} ${JSON.stringify(extra)}`;
      const routine = typeof error === 'string' && ROUTINE_ERRORS.includes(error);
      switch (routine ? logLevel.WARN : level) {
        case logLevel.ERROR:
          return logger.error(text);
        case logLevel.WARN:
          return logger.warn(text);
        case logLevel.INFO:
          return logger.log(text);
        case logLevel.DEBUG:
        case logLevel.NOTHING:
          return logger.debug(text);
      }
    };
  };
}
