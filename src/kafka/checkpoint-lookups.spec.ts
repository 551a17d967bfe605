import { jest } from '@jest/globals';
import { CheckpointLookups, type CheckpointRecord } from './checkpoint-lookups.js';

const records = (from: number, to: number): CheckpointRecord[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ offset: from + i, text: `cp-${from + i}` }));

describe(CheckpointLookups.name, () => {
  let seeks: number[];
  let sut: CheckpointLookups;

  beforeEach(() => {
    seeks = [];
    sut = new CheckpointLookups((offset) => seeks.push(offset));
    sut.rejoined(100);
    expect(sut.read(records(100, 109), 109)).toBe(true);
  });

  it('should wait for a checkpoint ahead of the tail, and take it from the tail', async () => {
    const looked = sut.look(112, 10_000);

    expect(sut.read(records(110, 114), 114)).toBe(true);
    await expect(looked).resolves.toBe('cp-112');
    expect(seeks).toEqual([]);
  });

  it('should read an old checkpoint back, then send the consumer back to the tail', async () => {
    const looked = sut.look(42, 10_000);
    expect(seeks).toEqual([42]);

    expect(sut.read(records(40, 60), 60)).toBe(false);
    await expect(looked).resolves.toBe('cp-42');
    expect(seeks).toEqual([42, 110]);
    expect(sut.read(records(110, 111), 111)).toBe(true);
  });

  it('should take a batch fetched before the consumer was sent back as the tail’s, and return after it', async () => {
    const looked = sut.look(42, 10_000);

    expect(sut.read(records(110, 115), 115)).toBe(true);
    expect(sut.read(records(40, 50), 50)).toBe(false);

    await expect(looked).resolves.toBe('cp-42');
    expect(seeks).toEqual([42, 116]);
  });

  it('should read back once more for an old checkpoint past the first stretch', async () => {
    const first = sut.look(5, 10_000);
    const second = sut.look(80, 10_000);
    expect(seeks).toEqual([5]);

    sut.read(records(0, 20), 20);
    expect(seeks).toEqual([5, 110, 80]);
    sut.read(records(80, 90), 90);

    await expect(first).resolves.toBe('cp-5');
    await expect(second).resolves.toBe('cp-80');
    expect(seeks).toEqual([5, 110, 80, 110]);
  });

  it('should answer undefined for a checkpoint the topic no longer has', async () => {
    const looked = sut.look(3, 10_000);

    // Below the log start: the consumer is reset to the earliest record there is.
    sut.read(records(30, 40), 40);

    await expect(looked).resolves.toBeUndefined();
  });

  it('should answer undefined at the deadline, and forget the lookup', async () => {
    jest.useFakeTimers();
    try {
      const looked = sut.look(500, 1000);
      jest.advanceTimersByTime(1000);
      await expect(looked).resolves.toBeUndefined();

      sut.read(records(110, 120), 120);
      expect(seeks).toEqual([]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('should start a read back again after the consumer rejoined', () => {
    void sut.look(42, 10_000);
    sut.rejoined(90);

    expect(seeks).toEqual([42, 42]);
  });
});
