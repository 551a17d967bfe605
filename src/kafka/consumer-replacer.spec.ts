import { jest } from '@jest/globals';
import { ConsumerReplacer, isConnectivityError, type ReplacementSteps } from './consumer-replacer.js';

/** Settles pending promises and due timers of fake time, step by step. */
async function advance(ms: number): Promise<void> {
  for (let i = 0; i < ms; i++) {
    await jest.advanceTimersByTimeAsync(1);
  }
}

describe(ConsumerReplacer.name, () => {
  let sut: ConsumerReplacer;
  let log: string[];
  let restart: () => Promise<void>;
  let overdue: boolean;

  beforeEach(() => {
    jest.useFakeTimers();
    log = [];
    overdue = false;
    restart = () => Promise.resolve();
    const steps: ReplacementSteps = {
      restart: () => {
        log.push('restart');
        return restart();
      },
      restarted: (cause) => log.push(`restarted after ${cause}`),
      overdue: () => overdue,
      warn: (message) => log.push(message),
    };
    sut = new ConsumerReplacer(steps, { firstMs: 10, maxMs: 40 });
  });

  afterEach(() => {
    sut.close();
    jest.useRealTimers();
  });

  it('should start a new consumer after the first delay', async () => {
    sut.request('error');
    await advance(9);
    expect(log).toEqual([]);

    await advance(1);

    expect(log).toEqual(['restart', 'restarted after error']);
  });

  it('should try again with growing delays while starting fails, and stop once overdue', async () => {
    restart = () => Promise.reject(new Error('broker down'));
    sut.request('unreachable');

    await advance(10 + 20 + 40);
    expect(log.filter((entry) => entry === 'restart')).toHaveLength(3);
    overdue = true;
    await advance(40);

    expect(log.filter((entry) => entry === 'restart')).toHaveLength(4);
    expect(log).toContain('Could not start a new Kafka consumer yet: Error: broker down');
    await advance(200);
    expect(log.filter((entry) => entry === 'restart')).toHaveLength(4);
  });

  it('should go round again when the new consumer stops while it starts, instead of taking it for a success', async () => {
    // kafkajs: a join that fails is a crash inside run(), which then resolves.
    restart = () => {
      restart = () => Promise.resolve();
      sut.request('error');
      return Promise.resolve();
    };
    sut.request('unreachable');

    await advance(10);
    expect(log).toEqual(['restart']);
    await advance(20);

    expect(log).toEqual(['restart', 'restart', 'restarted after error']);
  });

  it('should replace a consumer that stops after its replacement ran', async () => {
    sut.request('error');
    await advance(10);
    sut.request('unreachable');
    await advance(10);

    expect(log).toEqual(['restart', 'restarted after error', 'restart', 'restarted after unreachable']);
  });

  it('should take one request at a time, however many come while it waits', async () => {
    sut.request('error');
    sut.request('error');
    sut.request('unreachable');
    await advance(50);

    expect(log).toEqual(['restart', 'restarted after unreachable']);
  });

  it('should do nothing once closed', async () => {
    sut.request('error');
    sut.close();
    await advance(50);
    sut.request('error');
    await advance(50);

    expect(log).toEqual([]);
  });
});

describe(isConnectivityError.name, () => {
  const named = (name: string, cause?: unknown) => Object.assign(new Error(name), { name, cause });

  it('should tell a broker out of reach, also as the cause of another error, from anything else', () => {
    expect(isConnectivityError(named('KafkaJSConnectionError'))).toBe(true);
    expect(
      isConnectivityError(named('KafkaJSNumberOfRetriesExceeded', named('KafkaJSRequestTimeoutError'))),
    ).toBe(true);
    expect(isConnectivityError(named('KafkaJSProtocolError'))).toBe(false);
    expect(isConnectivityError(undefined)).toBe(false);
  });
});
