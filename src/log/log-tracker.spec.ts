import { LogPosition } from './log-position.js';
import { LogTracker } from './log-tracker.js';

describe(LogTracker.name, () => {
  let sut: LogTracker;

  beforeEach(() => {
    sut = new LogTracker();
    sut.startAt('orders', 0, 10, 20);
    sut.startAt('orders', 1, 5, 5);
  });

  it('should move past each record once, and tell a redelivery', () => {
    expect(sut.advance('orders', 0, 10)).toBe(true);
    expect(sut.advance('orders', 0, 12)).toBe(true);
    expect(sut.advance('orders', 0, 11)).toBe(false);
    expect(sut.nextOffset('orders', 0)).toBe(13);
  });

  it('should keep the first start of a partition', () => {
    sut.startAt('orders', 0, 0);

    expect(sut.nextOffset('orders', 0)).toBe(10);
  });

  it('should start a stream without an id at the log end of start-up while history is being read', () => {
    expect([...sut.liveStart(['orders']).entries()]).toEqual([
      ['orders', 0, 20],
      ['orders', 1, 5],
    ]);
    sut.moveTo('orders', 0, 25);
    expect(sut.liveStart(['orders']).get('orders', 0)).toBe(25);
  });

  it('should forget a partition another instance owns now, and leave it out of cursors', () => {
    sut.forget('orders', 0);

    expect([sut.knows('orders', 0), sut.liveFromOf('orders', 0), sut.logEndOf('orders', 0).end]).toEqual([
      false,
      undefined,
      undefined,
    ]);
    expect([...LogPosition.parse(sut.cursorText(['orders']))!.entries()]).toEqual([['orders', 1, 5]]);
  });

  it('should keep the cursor text through a batch, and change it when the batch ends', () => {
    const topics = ['chat', 'orders'];
    const before = sut.cursorText(['orders']);
    const joined = sut.cursorText(topics);

    sut.advance('orders', 1, 5);
    expect([sut.cursorText(['orders']), sut.cursorText(topics)]).toEqual([before, joined]);
    sut.moveTo('orders', 1, 6);
    const after = sut.cursorText(['orders']);
    expect(after).not.toBe(before);
    expect(LogPosition.parse(after)!.get('orders', 1)).toBe(6);
    expect(sut.cursorText(topics)).toBe(`chat=AA~${after}`);
  });

  describe('discontinuities', () => {
    const fetched = (fetchedOffset: number, highWatermark: number, offsetReset = false) => ({
      fetchedOffset,
      highWatermark,
      offsetReset,
    });

    it('should take a fetch where processing stands as continuous, and a redelivery too', () => {
      expect(sut.isDiscontinuity('orders', 0, fetched(10, 30))).toBe(false);
      expect(sut.isDiscontinuity('orders', 0, fetched(8, 30))).toBe(false);
    });

    it('should see a jump past unprocessed records, a log shorter than the position, and a reset', () => {
      expect(sut.isDiscontinuity('orders', 0, fetched(15, 30))).toBe(true);
      expect(sut.isDiscontinuity('orders', 0, fetched(0, 3))).toBe(true);
      expect(sut.isDiscontinuity('orders', 0, fetched(0, 300, true))).toBe(true);
    });

    it('should start over where the consumer reads from', () => {
      sut.rebase('orders', 0, 0);

      expect(sut.nextOffset('orders', 0)).toBe(0);
      expect(sut.liveStart(['orders']).get('orders', 0)).toBe(0);
    });
  });

  it('should remember the latest log end seen per partition, and when', () => {
    sut.sawLogEnd('orders', 1, 50, 1234);

    expect(sut.logEndOf('orders', 1)).toEqual({ end: 50, seenAt: 1234 });
    expect(sut.logEndOf('chat', 0)).toEqual({ end: undefined, seenAt: 0 });
  });
});
