import { ConsumerPositions } from './consumer-positions.js';
import { formatCursor, formatEventId, parseCursor, type StreamCursor } from './event-id.js';

const INT64_MAX = '9223372036854775807';

function cursor(entries: Record<string, Array<[number, bigint]>>): StreamCursor {
  return new Map(Object.entries(entries).map(([topic, offsets]) => [topic, new Map(offsets)]));
}

describe('formatEventId', () => {
  it('should write the position, then the cursor after a semicolon', () => {
    expect(formatEventId({ topic: 'orders', partition: 1, offset: 98n }, 'orders:1234.99,chat:5')).toBe(
      'orders/1/98;orders:1234.99,chat:5',
    );
  });

  it('should write offsets beyond the safe integer range exactly', () => {
    expect(formatEventId({ topic: 'big', partition: 0, offset: BigInt(INT64_MAX) }, `big:${INT64_MAX}`)).toBe(
      `big/0/${INT64_MAX};big:${INT64_MAX}`,
    );
  });
});

describe('parseCursor', () => {
  it('should read the cursor of an event id', () => {
    expect(parseCursor('orders/1/98;orders:1234.99,chat:5')).toEqual(
      cursor({
        orders: [
          [0, 1234n],
          [1, 99n],
        ],
        chat: [[0, 5n]],
      }),
    );
  });

  it('should read a bare cursor', () => {
    expect(parseCursor('orders:1234.99,chat:5')).toEqual(
      cursor({
        orders: [
          [0, 1234n],
          [1, 99n],
        ],
        chat: [[0, 5n]],
      }),
    );
  });

  it('should skip partitions with an empty slot', () => {
    expect(parseCursor('orders:.7..3.')).toEqual(
      cursor({
        orders: [
          [1, 7n],
          [3, 3n],
        ],
      }),
    );
  });

  it('should read a topic with no known partition', () => {
    expect(parseCursor('orders:,chat:1')).toEqual(cursor({ orders: [], chat: [[0, 1n]] }));
  });

  it('should read offsets up to the int64 maximum exactly', () => {
    expect(parseCursor(`t:${INT64_MAX}.0`)).toEqual(
      cursor({
        t: [
          [0, BigInt(INT64_MAX)],
          [1, 0n],
        ],
      }),
    );
  });

  it('should read offsets with leading zeros as decimal', () => {
    expect(parseCursor('t:007.010')).toEqual(
      cursor({
        t: [
          [0, 7n],
          [1, 10n],
        ],
      }),
    );
  });

  it('should accept topic names with dots, dashes and underscores', () => {
    expect(parseCursor('a.b_c-D9:1')).toEqual(cursor({ 'a.b_c-D9': [[0, 1n]] }));
  });

  it('should round-trip with formatEventId and ConsumerPositions', () => {
    const positions = new ConsumerPositions();
    positions.startAt('orders', 2, 40n);
    positions.advance({ topic: 'orders', partition: 0, offset: 1233n });
    positions.advance({ topic: 'chat', partition: 0, offset: 4n });
    const id = formatEventId(
      { topic: 'chat', partition: 0, offset: 4n },
      positions.cursorText(['orders', 'chat', 'idle']),
    );

    expect(id).toBe('chat/0/4;orders:1234..40,chat:5,idle:');
    expect(parseCursor(id)).toEqual(
      cursor({
        orders: [
          [0, 1234n],
          [2, 40n],
        ],
        chat: [[0, 5n]],
        idle: [],
      }),
    );
  });

  it('should accept an id of exactly 16 KiB', () => {
    const text = `t:${'.'.repeat(16 * 1024 - 3)}1`;

    expect(text).toHaveLength(16 * 1024);
    expect(
      parseCursor(text)
        ?.get('t')
        ?.get(16 * 1024 - 3),
    ).toBe(1n);
  });

  it.each<[string, string]>([
    ['empty', ''],
    ['a position without a cursor', 'orders/1/98;'],
    ['a missing colon', 'orders'],
    ['a missing colon in the second topic', 'orders:1,chat'],
    ['an empty topic name', ':1'],
    ['a topic with a slash', 'or/ders:1'],
    ['a topic with a space', 'or ders:1'],
    ['a topic with unicode', 'ördérs:1'],
    ['a topic over 249 characters', `${'t'.repeat(250)}:1`],
    ['a duplicate topic', 'orders:1,orders:2'],
    ['a trailing comma', 'orders:1,'],
    ['a negative offset', 'orders:-1'],
    ['a signed offset', 'orders:+1'],
    ['a decimal offset', 'orders:1e3'],
    ['a hexadecimal offset', 'orders:0x10'],
    ['a space in an offset', 'orders: 1'],
    ['an offset of 20 digits', 'orders:10000000000000000000'],
    ['an offset above the int64 maximum', 'orders:9223372036854775808'],
    ['a second semicolon', 'a/0/1;b/0/2;orders:1'],
    ['an id over 16 KiB', `t:${'.'.repeat(16 * 1024 - 2)}1`],
  ])('should return undefined for %s', (_, id) => {
    expect(parseCursor(id)).toBeUndefined();
  });
});

describe('formatCursor', () => {
  it('should write offsets by partition index with empty slots, topics in the given order', () => {
    const sut = cursor({
      orders: [
        [0, 1234n],
        [3, 7n],
      ],
      chat: [[1, 5n]],
    });

    expect(formatCursor(sut, ['chat', 'orders'])).toBe('chat:.5,orders:1234...7');
  });

  it('should write an empty offset list for a topic without positions or not in the cursor', () => {
    expect(formatCursor(cursor({ orders: [] }), ['orders', 'chat'])).toBe('orders:,chat:');
  });

  it('should leave out topics that were not asked for', () => {
    expect(formatCursor(cursor({ orders: [[0, 1n]], chat: [[0, 2n]] }), ['chat'])).toBe('chat:2');
  });

  it('should write offsets up to the int64 maximum exactly', () => {
    expect(formatCursor(cursor({ t: [[0, BigInt(INT64_MAX)]] }), ['t'])).toBe(`t:${INT64_MAX}`);
  });

  it.each(['orders:1234.99,chat:5', 'orders:.7..3,chat:', 'a.b_c-D9:0', `t:${INT64_MAX}.0.1`])(
    'should be the inverse of parseCursor for %p',
    (text) => {
      const parsed = parseCursor(text);

      expect(parsed).toBeDefined();
      expect(formatCursor(parsed ?? new Map(), [...(parsed?.keys() ?? [])])).toBe(text);
    },
  );

  it('should write what ConsumerPositions writes for the same positions', () => {
    const positions = new ConsumerPositions();
    positions.advance({ topic: 'orders', partition: 2, offset: 9n });
    positions.startAt('orders', 0, 3n);
    positions.advance({ topic: 'chat', partition: 0, offset: 0n });
    const topics = ['orders', 'chat', 'idle'];

    expect(formatCursor(positions.snapshot(topics), topics)).toBe(positions.cursorText(topics));
  });
});
