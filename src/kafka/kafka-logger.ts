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

/** kafkajs logs through Nest's logger, with routine retried errors downgraded. */
export const kafkaLogCreator: logCreator = () => {
  const logger = new Logger('Kafka');
  return ({ level, log }) => {
    const { message, error, ...extra } = log;
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
