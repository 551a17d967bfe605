import { ConsumerPositions } from './consumer-positions.js';

describe(ConsumerPositions.name, () => {
  let sut: ConsumerPositions;

  beforeEach(() => {
    sut = new ConsumerPositions();
  });

  describe('nextOffset', () => {
    it('should be undefined for a partition not seen yet', () => {
      expect(sut.nextOffset('orders', 0)).toBeUndefined();
    });
  });

  describe('advance', () => {
    it('should move the next offset past the record', () => {
      expect(sut.advance({ topic: 'orders', partition: 0, offset: 10n })).toBe(true);

      expect(sut.nextOffset('orders', 0)).toBe(11n);
    });

    it('should accept the next record and records after a gap', () => {
      sut.advance({ topic: 'orders', partition: 0, offset: 10n });

      expect(sut.advance({ topic: 'orders', partition: 0, offset: 11n })).toBe(true);
      expect(sut.advance({ topic: 'orders', partition: 0, offset: 20n })).toBe(true);
      expect(sut.nextOffset('orders', 0)).toBe(21n);
    });

    it('should return false for a redelivered record and not move back', () => {
      sut.advance({ topic: 'orders', partition: 0, offset: 10n });
      sut.advance({ topic: 'orders', partition: 0, offset: 11n });

      expect(sut.advance({ topic: 'orders', partition: 0, offset: 11n })).toBe(false);
      expect(sut.advance({ topic: 'orders', partition: 0, offset: 3n })).toBe(false);
      expect(sut.nextOffset('orders', 0)).toBe(12n);
    });

    it('should keep partitions and topics apart', () => {
      sut.advance({ topic: 'orders', partition: 0, offset: 10n });

      expect(sut.advance({ topic: 'orders', partition: 1, offset: 2n })).toBe(true);
      expect(sut.advance({ topic: 'chat', partition: 0, offset: 2n })).toBe(true);
      expect(sut.nextOffset('orders', 0)).toBe(11n);
      expect(sut.nextOffset('orders', 1)).toBe(3n);
      expect(sut.nextOffset('chat', 0)).toBe(3n);
    });

    it('should reject records before the start position', () => {
      sut.startAt('orders', 0, 100n);

      expect(sut.advance({ topic: 'orders', partition: 0, offset: 99n })).toBe(false);
      expect(sut.advance({ topic: 'orders', partition: 0, offset: 100n })).toBe(true);
      expect(sut.nextOffset('orders', 0)).toBe(101n);
    });

    it('should count offsets beyond the safe integer range exactly', () => {
      sut.advance({ topic: 'orders', partition: 0, offset: 9007199254740993n });

      expect(sut.nextOffset('orders', 0)).toBe(9007199254740994n);
      expect(sut.cursorText(['orders'])).toBe('orders:9007199254740994');
    });
  });

  describe('startAt', () => {
    it('should set where an unseen partition starts', () => {
      sut.startAt('orders', 3, 50n);

      expect(sut.nextOffset('orders', 3)).toBe(50n);
    });

    it('should not move a partition that has processed records', () => {
      sut.advance({ topic: 'orders', partition: 0, offset: 10n });

      sut.startAt('orders', 0, 0n);
      sut.startAt('orders', 0, 500n);

      expect(sut.nextOffset('orders', 0)).toBe(11n);
    });

    it('should not move a partition that already has a start', () => {
      sut.startAt('orders', 0, 5n);

      sut.startAt('orders', 0, 7n);

      expect(sut.nextOffset('orders', 0)).toBe(5n);
    });
  });

  describe('snapshot', () => {
    it('should copy the positions of the given topics, skipping unknown partitions', () => {
      sut.advance({ topic: 'orders', partition: 0, offset: 10n });
      sut.startAt('orders', 2, 5n);
      sut.advance({ topic: 'chat', partition: 0, offset: 1n });

      expect(sut.snapshot(['orders', 'idle'])).toEqual(
        new Map([
          [
            'orders',
            new Map([
              [0, 11n],
              [2, 5n],
            ]),
          ],
          ['idle', new Map()],
        ]),
      );
    });

    it('should not change when positions advance later', () => {
      sut.advance({ topic: 'orders', partition: 0, offset: 10n });
      const copy = sut.snapshot(['orders']);

      sut.advance({ topic: 'orders', partition: 0, offset: 11n });
      sut.startAt('orders', 1, 4n);

      expect(copy).toEqual(new Map([['orders', new Map([[0, 11n]])]]));
    });

    it('should not let changes to the copy reach the positions', () => {
      sut.advance({ topic: 'orders', partition: 0, offset: 10n });

      sut.snapshot(['orders']).get('orders')?.set(0, 0n);

      expect(sut.nextOffset('orders', 0)).toBe(11n);
      expect(sut.advance({ topic: 'orders', partition: 0, offset: 5n })).toBe(false);
    });
  });

  describe('cursorText', () => {
    it('should write an empty offset list for a topic not seen yet', () => {
      expect(sut.cursorText(['orders'])).toBe('orders:');
    });

    it('should be empty for no topics', () => {
      expect(sut.cursorText([])).toBe('');
    });

    it('should write offsets by partition index with empty slots, topics in the given order', () => {
      sut.advance({ topic: 'orders', partition: 0, offset: 1233n });
      sut.startAt('orders', 3, 7n);
      sut.advance({ topic: 'chat', partition: 1, offset: 4n });

      expect(sut.cursorText(['orders', 'chat', 'idle'])).toBe('orders:1234...7,chat:.5,idle:');
      expect(sut.cursorText(['chat', 'orders'])).toBe('chat:.5,orders:1234...7');
    });

    it('should reflect an advance after the text was read', () => {
      sut.advance({ topic: 'orders', partition: 0, offset: 1n });
      expect(sut.cursorText(['orders'])).toBe('orders:2');

      sut.advance({ topic: 'orders', partition: 0, offset: 2n });
      sut.advance({ topic: 'orders', partition: 1, offset: 0n });

      expect(sut.cursorText(['orders'])).toBe('orders:3.1');
    });

    it('should reflect a start after the text was read', () => {
      expect(sut.cursorText(['orders'])).toBe('orders:');

      sut.startAt('orders', 1, 9n);

      expect(sut.cursorText(['orders'])).toBe('orders:.9');
    });

    it('should not change when a redelivery is refused', () => {
      sut.advance({ topic: 'orders', partition: 0, offset: 5n });
      const before = sut.cursorText(['orders']);

      sut.advance({ topic: 'orders', partition: 0, offset: 5n });

      expect(sut.cursorText(['orders'])).toBe(before);
    });

    it('should keep other topics cached text intact when one topic advances', () => {
      sut.advance({ topic: 'orders', partition: 0, offset: 1n });
      sut.advance({ topic: 'chat', partition: 0, offset: 1n });
      expect(sut.cursorText(['orders', 'chat'])).toBe('orders:2,chat:2');

      sut.advance({ topic: 'chat', partition: 0, offset: 2n });

      expect(sut.cursorText(['orders', 'chat'])).toBe('orders:2,chat:3');
    });
  });
});
