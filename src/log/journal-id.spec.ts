import { addGiven, formatJournalCursor, parseJournalCursor, positionOf } from './journal-id.js';
import { LogPosition } from './log-position.js';

describe('journal cursors', () => {
  it('should read back what it wrote: a checkpoint, and where a stream stands past it', () => {
    const given: number[] = [];
    addGiven(given, 1, 63, 2);
    addGiven(given, 0, 0, 300);

    const text = formatJournalCursor((123_456).toString(36), given);

    expect(text).toMatch(/^@2n9c\.[A-Za-z0-9_-]+$/);
    expect(parseJournalCursor(text)).toEqual({
      checkpoint: 123_456,
      given: [
        [1, 63, 2],
        [0, 0, 300],
      ],
    });
    expect(parseJournalCursor(formatJournalCursor('zz', []))).toEqual({ checkpoint: 1295, given: [] });
  });

  it.each(['orders=AQE', '@', '@ZZ', '@1.', '@1.***', '@1.gA', '@123456789012'])(
    'should refuse %p',
    (text) => {
      expect(parseJournalCursor(text)).toBeUndefined();
    },
  );

  it('should place a stream past the checkpoint on the partitions it lists, and refuse an unknown topic index', () => {
    const checkpoint = LogPosition.empty();
    checkpoint.set('chat', 0, 1);
    checkpoint.set('orders', 0, 2);
    checkpoint.set('orders', 1, 9);

    expect([...positionOf({ checkpoint: 1, given: [[1, 1, 4]] }, checkpoint)!.entries()]).toEqual([
      ['chat', 0, 1],
      ['orders', 0, 2],
      ['orders', 1, 13],
    ]);
    expect(positionOf({ checkpoint: 1, given: [[2, 0, 1]] }, checkpoint)).toBeUndefined();
  });
});
