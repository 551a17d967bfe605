import { formatEventId, LogPosition, MAX_OFFSET } from './log-position.js';

function position(entries: Array<[string, number, number]>, topics: string[] = []): LogPosition {
  const sut = LogPosition.empty();
  for (const topic of topics) sut.addTopic(topic);
  for (const [topic, partition, offset] of entries) sut.set(topic, partition, offset);
  return sut;
}

const entriesOf = (sut: LogPosition | undefined) => (sut ? [...sut.entries()] : undefined);

describe(LogPosition.name, () => {
  describe('format and parse', () => {
    it('should read back what it wrote, unknown partitions and empty topics included', () => {
      const sut = position(
        [
          ['orders', 0, 1234],
          ['orders', 2, 87],
          ['chat', 0, 0],
        ],
        ['alerts'],
      );

      const text = sut.format(['alerts', 'chat', 'orders']);
      const read = LogPosition.parse(text)!;

      expect(entriesOf(read)).toEqual([
        ['chat', 0, 0],
        ['orders', 0, 1234],
        ['orders', 2, 87],
      ]);
      expect(read.hasTopic('alerts')).toBe(true);
      expect(read.partitionCount('orders')).toBe(3);
      expect(read.get('orders', 1)).toBeUndefined();
    });

    it('should write each topic as name=base64url, joined by ~', () => {
      expect(position([['orders', 0, 5]]).format(['orders'])).toMatch(/^orders=[A-Za-z0-9_-]+$/);
      expect(
        position([
          ['a', 0, 1],
          ['b', 0, 2],
        ]).format(['a', 'b']),
      ).toMatch(/^a=[\w-]+~b=[\w-]+$/);
    });

    it('should keep offsets exact up to the largest offset it handles', () => {
      const sut = position([
        ['t', 0, MAX_OFFSET],
        ['t', 1, 0],
        ['t', 2, 2 ** 40 + 7],
      ]);

      expect(entriesOf(LogPosition.parse(sut.format(['t'])))).toEqual(entriesOf(sut));
    });

    it('should write 64 partitions of similar offsets compactly', () => {
      const sut = LogPosition.empty();
      for (let partition = 0; partition < 64; partition++)
        sut.set('notifications', partition, 10_000_000 + partition * 37);

      const text = sut.format(['notifications']);

      expect(text.length).toBeLessThan(200);
      expect(entriesOf(LogPosition.parse(text))).toEqual(entriesOf(sut));
    });

    it('should take the cursor out of an event id', () => {
      const cursor = position([['orders', 1, 99]]).format(['orders']);
      const id = formatEventId({ topic: 'orders', partition: 1, offset: 98 }, cursor);

      expect(id).toBe(`orders/1/98;${cursor}`);
      expect(entriesOf(LogPosition.parse(id))).toEqual([['orders', 1, 99]]);
    });

    it('should still read the first, decimal format, with the event just given on its own partition', () => {
      expect(entriesOf(LogPosition.parse('orders/1/98;chat:5,orders:1234..87'))).toEqual([
        ['chat', 0, 5],
        ['orders', 0, 1234],
        ['orders', 1, 99],
        ['orders', 2, 87],
      ]);
      expect(entriesOf(LogPosition.parse('orders:'))).toEqual([]);
    });

    it("should take an event's own partition as just past it, whatever the cursor of its batch says", () => {
      const cursor = LogPosition.empty();
      cursor.set('orders', 0, 10);
      cursor.set('orders', 1, 40);

      const id = formatEventId({ topic: 'orders', partition: 1, offset: 44 }, cursor.format(['orders']));

      expect(entriesOf(LogPosition.parse(id))).toEqual([
        ['orders', 0, 10],
        ['orders', 1, 45],
      ]);
      expect(LogPosition.parse(`payments/1/4;${cursor.format(['orders'])}`)).toBeUndefined();
    });

    it.each([
      ['an empty text', ''],
      ['no topic', '=AA'],
      ['a bad topic name', 'or/ders=AQI'],
      ['the same topic twice', 'a=AQI~a=AQI'],
      ['bytes after the offsets', `${position([['a', 0, 1]]).format(['a'])}AA`],
      ['a truncated varint', 'a=AYA'],
      ['a character outside base64url', 'a=AQ+I'],
      ['a decimal offset too large', 'orders:9223372036854775807'],
      ['a negative decimal offset', 'orders:-1'],
      ['a decimal offset that is not a number', 'orders:12x'],
      ['text far too long', `orders:${'1.'.repeat(9000)}`],
    ])('should refuse %s', (_, text) => {
      expect(LogPosition.parse(text)).toBeUndefined();
    });
  });

  describe('values', () => {
    it('should copy on snapshot, restricted to the topics asked for', () => {
      const sut = position([
        ['a', 0, 1],
        ['b', 0, 2],
      ]);

      const copy = sut.snapshot(['a', 'c']);
      copy.set('a', 0, 10);

      expect(sut.get('a', 0)).toBe(1);
      expect(entriesOf(copy)).toEqual([['a', 0, 10]]);
      expect(copy.hasTopic('b')).toBe(false);
      expect(copy.hasTopic('c')).toBe(true);
    });

    it('should merge by taking the greater offset, for the topics it names', () => {
      const sut = position([
        ['a', 0, 5],
        ['a', 1, 9],
      ]);

      sut.mergeMax(
        position([
          ['a', 0, 7],
          ['a', 1, 3],
          ['a', 2, 1],
          ['b', 0, 4],
        ]),
      );

      expect(entriesOf(sut)).toEqual([
        ['a', 0, 7],
        ['a', 1, 9],
        ['a', 2, 1],
      ]);
    });

    it('should overlay the offsets the other has, greater or not', () => {
      const sut = position([
        ['a', 0, 5],
        ['a', 1, 9],
      ]);

      sut.overlay(position([['a', 1, 3]]));

      expect(entriesOf(sut)).toEqual([
        ['a', 0, 5],
        ['a', 1, 3],
      ]);
    });

    it('should tell where it is ahead of another, or undefined when it is not', () => {
      const mine = position([
        ['a', 0, 5],
        ['a', 1, 9],
        ['a', 2, 1],
      ]);
      const theirs = position([
        ['a', 0, 5],
        ['a', 1, 4],
      ]);

      expect(entriesOf(mine.aheadOf(theirs))).toEqual([
        ['a', 1, 9],
        ['a', 2, 1],
      ]);
      expect(theirs.aheadOf(mine)).toBeUndefined();
    });

    it('should forget a partition', () => {
      const sut = position([
        ['a', 0, 5],
        ['a', 1, 9],
      ]);

      sut.delete('a', 0);

      expect(entriesOf(sut)).toEqual([['a', 1, 9]]);
    });
  });
});
