import type { Consumer, ConsumerConfig } from 'kafkajs';
import { closableConsumer } from './closable-consumer.js';

describe(closableConsumer.name, () => {
  function fakeKafka() {
    const handlers = new Map<string, () => void>();
    const state = { config: undefined as ConsumerConfig | undefined, disconnects: 0 };
    const consumer = {
      events: { GROUP_JOIN: 'consumer.group_join' },
      on: (event: string, handler: () => void) => void handlers.set(event, handler),
      disconnect: () => {
        state.disconnects++;
        return Promise.resolve();
      },
    } as unknown as Consumer;
    const kafka = {
      consumer: (config: ConsumerConfig) => {
        state.config = config;
        return consumer;
      },
    };
    return { kafka, state, join: () => handlers.get('consumer.group_join')!() };
  }

  it('should let kafkajs restart a crashed consumer until its owner closes, then refuse', async () => {
    const { kafka, state } = fakeKafka();
    let closed = false;

    closableConsumer(kafka, { groupId: 'g' }, () => closed);
    const restart = state.config!.retry!.restartOnFailure!;

    await expect(restart(new Error('crash'))).resolves.toBe(true);
    closed = true;
    await expect(restart(new Error('crash'))).resolves.toBe(false);
    expect(state.config).toMatchObject({ groupId: 'g', retry: { retries: 5 } });
  });

  it('should make a consumer that joins after its owner closed leave again', () => {
    const { kafka, state, join } = fakeKafka();
    let closed = false;
    closableConsumer(kafka, { groupId: 'g' }, () => closed);

    join();
    expect(state.disconnects).toBe(0);
    closed = true;
    join();
    expect(state.disconnects).toBe(1);
  });
});
