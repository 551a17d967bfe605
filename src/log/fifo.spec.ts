import { Fifo } from './fifo.js';

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe(Fifo.name, () => {
  let sut: Fifo<number>;

  beforeEach(() => {
    sut = new Fifo<number>();
  });

  describe('when empty', () => {
    it('should have size 0, nothing to peek and nothing to iterate', () => {
      expect(sut.size).toBe(0);
      expect(sut.peek()).toBeUndefined();
      expect([...sut]).toEqual([]);
    });

    it('should return undefined from shift and stay empty', () => {
      expect(sut.shift()).toBeUndefined();
      expect(sut.shift()).toBeUndefined();

      expect(sut.size).toBe(0);
      sut.push(1);
      expect(sut.size).toBe(1);
      expect(sut.shift()).toBe(1);
    });
  });

  describe('push, peek and shift', () => {
    it('should give items back in the order they were pushed', () => {
      sut.push(1);
      sut.push(2);
      sut.push(3);

      expect(sut.size).toBe(3);
      expect(sut.peek()).toBe(1);
      expect(sut.shift()).toBe(1);
      expect(sut.peek()).toBe(2);
      expect(sut.shift()).toBe(2);
      expect(sut.shift()).toBe(3);
      expect(sut.shift()).toBeUndefined();
      expect(sut.size).toBe(0);
    });

    it('should not remove the item on peek', () => {
      sut.push(7);

      expect(sut.peek()).toBe(7);
      expect(sut.peek()).toBe(7);
      expect(sut.size).toBe(1);
    });

    it('should keep falsy items', () => {
      sut.push(0);
      sut.push(0);

      expect(sut.size).toBe(2);
      expect(sut.shift()).toBe(0);
      expect(sut.peek()).toBe(0);
    });

    it('should take pushes after it was emptied', () => {
      sut.push(1);
      sut.shift();
      sut.push(2);
      sut.push(3);

      expect(sut.size).toBe(2);
      expect([...sut]).toEqual([2, 3]);
    });
  });

  describe('iteration', () => {
    it('should yield the remaining items in order after shifts, without removing them', () => {
      for (const item of range(0, 6)) sut.push(item);
      sut.shift();
      sut.shift();

      expect([...sut]).toEqual([2, 3, 4, 5]);
      expect([...sut]).toEqual([2, 3, 4, 5]);
      expect(sut.size).toBe(4);
    });
  });

  describe('compaction', () => {
    it('should keep contents and order after more than 1024 shifts', () => {
      for (const item of range(0, 5000)) sut.push(item);

      const shifted = range(0, 3000).map(() => sut.shift());

      expect(shifted).toEqual(range(0, 3000));
      expect(sut.size).toBe(2000);
      expect(sut.peek()).toBe(3000);
      expect([...sut]).toEqual(range(3000, 5000));
    });

    it('should keep working across compactions with pushes in between', () => {
      for (const item of range(0, 5000)) sut.push(item);
      for (let i = 0; i < 3000; i++) sut.shift();
      for (const item of range(5000, 6000)) sut.push(item);

      expect(sut.size).toBe(3000);
      expect([...sut]).toEqual(range(3000, 6000));
      const drained: Array<number | undefined> = [];
      while (sut.size > 0) drained.push(sut.shift());
      expect(drained).toEqual(range(3000, 6000));
      expect(sut.shift()).toBeUndefined();
    });

    it('should keep order in a long-running queue of steady size', () => {
      const out: Array<number | undefined> = [];
      for (const item of range(0, 10)) sut.push(item);

      for (const item of range(10, 10_000)) {
        sut.push(item);
        out.push(sut.shift());
      }

      expect(out).toEqual(range(0, 9990));
      expect(sut.size).toBe(10);
      expect([...sut]).toEqual(range(9990, 10_000));
    });
  });
});

describe(`${Fifo.name} (indexed)`, () => {
  let sut: Fifo<number>;

  beforeEach(() => {
    sut = new Fifo<number>();
    for (let n = 0; n < 3000; n++) sut.push(n * 2);
    for (let n = 0; n < 1500; n++) sut.shift();
  });

  it('should index from the head, after shifts have moved it', () => {
    expect(sut.at(0)).toBe(3000);
    expect(sut.at(1499)).toBe(5998);
    expect(sut.at(1500)).toBeUndefined();
    expect(sut.at(-1)).toBeUndefined();
  });

  it('should find the first item at or after a bound, or the size when there is none', () => {
    expect(sut.lowerBound((n) => n >= 0)).toBe(0);
    expect(sut.lowerBound((n) => n >= 3001)).toBe(1);
    expect(sut.lowerBound((n) => n >= 5998)).toBe(1499);
    expect(sut.lowerBound((n) => n >= 6000)).toBe(1500);
    expect(new Fifo<number>().lowerBound(() => true)).toBe(0);
  });
});
