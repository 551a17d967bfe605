import { alice, bob, eventOf, everyone } from '../testing/fixtures.js';
import { CatchUpScans, type CatchUpListener, type CatchUpRange, type HistoryReader } from './catch-up.js';
import type { GatewayEvent } from './gateway-event.js';

/** A reader the spec plays Kafka for: it records what it is asked to read. */
class FakeReader implements HistoryReader {
  readonly calls: string[] = [];

  read(topic: string, partition: number, offset: number): void {
    this.calls.push(`read ${topic}/${partition}@${offset}`);
  }

  stop(topic: string, partition: number): void {
    this.calls.push(`stop ${topic}/${partition}`);
  }
}

/** What one stream heard. */
class Heard implements CatchUpListener {
  readonly offsets: string[] = [];
  readonly reached: string[] = [];
  caught = 0;
  gone = 0;

  events(topic: string, partition: number, events: readonly GatewayEvent[], next: number): void {
    this.offsets.push(...events.map((event) => `${event.topic}/${event.partition}/${event.offset}`));
    this.reached.push(`${topic}/${partition}@${next}`);
  }

  caughtUp(): void {
    this.caught++;
  }

  expired(): void {
    this.gone++;
  }
}

describe(CatchUpScans.name, () => {
  let sut: CatchUpScans;
  let reader: FakeReader;
  let counted: Record<string, number>;

  beforeEach(() => {
    counted = { started: 0, joined: 0, scanned: 0, served: 0 };
    sut = new CatchUpScans(2, {
      scanStarted: () => counted['started']!++,
      joined: () => counted['joined']!++,
      scanned: (records) => (counted['scanned']! += records),
      served: (events) => (counted['served']! += events),
    });
    reader = new FakeReader();
    sut.attach(reader);
  });

  const range = (from: number, to: number, partition = 0): CatchUpRange => ({
    topic: 'orders',
    partition,
    from,
    to,
  });

  /** Kafka hands over the records of orders/`partition` from `from` to `to` (exclusive). */
  const fetched = (from: number, to: number, events: GatewayEvent[], partition = 0) =>
    sut.take({
      topic: 'orders',
      partition,
      fetchedOffset: from,
      highWatermark: 1000,
      offsetReset: false,
      next: to,
      records: events,
    });

  it("should hand a stream its own events and its topics' broadcasts of the range, then say it caught up", () => {
    const heard = new Heard();
    sut.start({ keys: ['alice', '\u0000orders'], ranges: [range(10, 14)] }, heard);

    fetched(10, 14, [
      eventOf('orders', 0, 10, alice),
      eventOf('orders', 0, 11, bob),
      eventOf('orders', 0, 12, everyone),
      eventOf('orders', 0, 13, { kind: 'users', userIds: ['carol', 'alice'] }),
    ]);

    expect(heard.offsets).toEqual(['orders/0/10', 'orders/0/12', 'orders/0/13']);
    expect([heard.reached, heard.caught]).toEqual([['orders/0@14'], 1]);
    expect(reader.calls).toEqual(['read orders/0@10', 'stop orders/0']);
    expect(counted).toEqual({ started: 1, joined: 0, scanned: 4, served: 3 });
  });

  it('should read a partition once for every stream that joins before the pass has gone past it', () => {
    const first = new Heard();
    const second = new Heard();
    sut.start({ keys: ['alice'], ranges: [range(10, 20)] }, first);
    fetched(10, 12, [eventOf('orders', 0, 10, alice), eventOf('orders', 0, 11, alice)]);

    sut.start({ keys: ['alice'], ranges: [range(15, 20)] }, second);
    fetched(12, 20, [eventOf('orders', 0, 14, alice), eventOf('orders', 0, 16, alice)]);

    expect(first.offsets).toEqual(['orders/0/10', 'orders/0/11', 'orders/0/14', 'orders/0/16']);
    expect(second.offsets).toEqual(['orders/0/16']);
    expect([first.caught, second.caught]).toEqual([1, 1]);
    expect(reader.calls).toEqual(['read orders/0@10', 'stop orders/0']);
    expect(counted['joined']).toBe(1);
  });

  it('should go round again for a stream that needs what the running pass has gone past', () => {
    const first = new Heard();
    const late = new Heard();
    sut.start({ keys: ['alice'], ranges: [range(10, 20)] }, first);
    fetched(10, 15, []);

    sut.start({ keys: ['alice'], ranges: [range(12, 20)] }, late);
    fetched(15, 20, [eventOf('orders', 0, 17, alice)]);
    fetched(12, 20, [eventOf('orders', 0, 13, alice), eventOf('orders', 0, 17, alice)]);

    expect(late.offsets).toEqual(['orders/0/13', 'orders/0/17']);
    expect(reader.calls).toEqual(['read orders/0@10', 'read orders/0@12', 'stop orders/0']);
    expect(counted).toMatchObject({ started: 1, joined: 1 });
  });

  it('should read at most maxScans partitions at once, the others in turn', () => {
    const heard = new Heard();
    sut.start({ keys: ['alice'], ranges: [range(0, 5, 0), range(0, 5, 1), range(0, 5, 2)] }, heard);
    expect(reader.calls).toEqual(['read orders/0@0', 'read orders/1@0']);

    fetched(0, 5, [], 0);

    expect(reader.calls.slice(2)).toEqual(['stop orders/0', 'read orders/2@0']);
    fetched(0, 5, [], 1);
    fetched(0, 5, [], 2);
    expect(heard.caught).toBe(1);
  });

  it('should tell a stream whose records Kafka no longer has, and serve the others', () => {
    const old = new Heard();
    const recent = new Heard();
    sut.start({ keys: ['alice'], ranges: [range(10, 40)] }, old);
    sut.start({ keys: ['alice'], ranges: [range(30, 40)] }, recent);

    // Retention removed 10..24: Kafka moved the read to where the log starts now.
    fetched(25, 40, [eventOf('orders', 0, 31, alice)]);

    expect([old.gone, old.offsets]).toEqual([1, []]);
    expect([recent.caught, recent.offsets]).toEqual([1, ['orders/0/31']]);
  });

  it('should stop reading a partition nobody needs once a stream is cancelled', () => {
    const cancel = sut.start({ keys: ['alice'], ranges: [range(0, 50)] }, new Heard());

    cancel();

    expect(reader.calls).toEqual(['read orders/0@0', 'stop orders/0']);
    expect(sut.lag).toBe(0);
  });
});
