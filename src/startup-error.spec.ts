import kafkajs from 'kafkajs';
import { ConfigError } from './config/gateway.config.js';
import { StartupError, startupMessage, topicsMissing } from './startup-error.js';

const { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSSASLAuthenticationError } =
  kafkajs as unknown as {
    KafkaJSConnectionError: new (message: string) => Error;
    KafkaJSNumberOfRetriesExceeded: new (
      cause: Error,
      retries: { retryCount: number; retryTime: number },
    ) => Error;
    KafkaJSSASLAuthenticationError: new (message: string) => Error;
  };

describe(startupMessage.name, () => {
  const brokers = ['127.0.0.1:1'];

  it('should name KAFKA_BROKERS and the address, with the root cause, when no broker answers', () => {
    const refused = new KafkaJSNumberOfRetriesExceeded(
      new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:1'),
      { retryCount: 10, retryTime: 2000 },
    );

    expect(startupMessage(refused, brokers)).toBe(
      'Kafka is unreachable at 127.0.0.1:1 (KAFKA_BROKERS): Connection error: connect ECONNREFUSED 127.0.0.1:1. Start it, or set KAFKA_BROKERS to a broker that answers.',
    );
  });

  it('should not call a broker that refused the credentials unreachable', () => {
    const refused = new KafkaJSSASLAuthenticationError('SASL PLAIN authentication failed');

    expect(startupMessage(refused, brokers)).toBe('Start-up failed: SASL PLAIN authentication failed');
  });

  it('should give the configuration problems as they are, one per line', () => {
    const config = new ConfigError(['PORT: too big', 'JWT_AUDIENCE: required']);

    expect(startupMessage(config, undefined)).toBe(
      'Invalid configuration:\n  - PORT: too big\n  - JWT_AUDIENCE: required',
    );
  });

  it('should give one line, never a stack, for anything else', () => {
    const message = startupMessage(new Error('something\n  went wrong'), brokers);

    expect(message).toBe('Start-up failed: something went wrong');
    expect(startupMessage(new StartupError('plain words'), brokers)).toBe('plain words');
  });
});

describe(topicsMissing.name, () => {
  it('should name a missing topic and the command that creates it', () => {
    expect(topicsMissing(['kafka:9092'], ['orders'])).toBe(
      'KAFKA_TOPICS: topic orders does not exist in Kafka at kafka:9092. Create it: kafka-topics.sh --bootstrap-server kafka:9092 --create --topic orders --partitions 3',
    );
  });

  it('should name every missing topic in one line', () => {
    const line = topicsMissing(['a:1', 'b:2'], ['orders', 'chat']);

    expect(line).not.toContain('\n');
    expect(line).toMatch(
      /^KAFKA_TOPICS: topics orders, chat do not exist in Kafka at a:1,b:2\. Create them: /,
    );
    expect(line).toContain(
      '--topic orders --partitions 3 && kafka-topics.sh --bootstrap-server a:1,b:2 --create --topic chat',
    );
  });
});
