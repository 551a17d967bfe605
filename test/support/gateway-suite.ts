import { createTestProducer, type TestProducer } from './kafka-producer.js';
import { startTestGateway, type TestGateway } from './test-gateway.js';
import { waitFor } from './wait-for.js';

export interface GatewaySuite {
  readonly gateway: TestGateway;
  readonly producer: TestProducer;
  /** Closes `stream` after the test, then checks that no subscription was left behind. */
  track<T extends { close(): void }>(stream: T): T;
}

/**
 * One gateway and one producer for a describe block, started before its tests and stopped after.
 * Streams a test tracks are closed after it, and every subscription must be gone before the next.
 */
export function useGatewaySuite(env: Record<string, string> = {}): GatewaySuite {
  let gateway: TestGateway | undefined;
  let producer: TestProducer | undefined;
  const streams: Array<{ close(): void }> = [];

  beforeAll(async () => {
    gateway = await startTestGateway(env);
    producer = await createTestProducer();
  });

  afterEach(async () => {
    streams.splice(0).forEach((stream) => stream.close());
    await waitFor(() => gateway?.bus.subscriberCount === 0, 'every subscription to be removed');
  });

  afterAll(async () => {
    await producer?.close();
    await gateway?.close();
  });

  return {
    get gateway() {
      if (!gateway) throw new Error('The gateway starts in beforeAll');
      return gateway;
    },
    get producer() {
      if (!producer) throw new Error('The producer starts in beforeAll');
      return producer;
    },
    track(stream) {
      streams.push(stream);
      return stream;
    },
  };
}
