import { DeliveredPositions, positionOf } from './event-id.js';

describe(positionOf.name, () => {
  it('should read the position before the cursor', () => {
    expect(positionOf('orders.v2/1/98;chat=AQY~orders.v2=BOQSAYsBGQ')).toEqual({
      topic: 'orders.v2',
      partition: 1,
      offset: 98,
    });
  });

  it.each(['chat=AQY~orders=BOQSAYsBGQ', 'orders:12.7', 'orders/x/1;c', 'orders/1;c', '/1/2;c', ''])(
    'should find no position in %p',
    (id) => {
      expect(positionOf(id)).toBeUndefined();
    },
  );
});

describe(DeliveredPositions.name, () => {
  let sut: DeliveredPositions;

  beforeEach(() => {
    sut = new DeliveredPositions();
  });

  it('should admit each position once, and nothing at or below the highest of its partition', () => {
    const at = (partition: number, offset: number) => ({ topic: 'orders', partition, offset });

    expect(
      [at(0, 5), at(0, 6), at(1, 2), at(0, 6), at(0, 4), at(1, 3), at(1, 2)].map((p) => sut.admit(p)),
    ).toEqual([true, true, true, false, false, true, false]);
  });

  it('should keep topics apart', () => {
    sut.admit({ topic: 'orders', partition: 0, offset: 9 });

    expect(sut.admit({ topic: 'chat', partition: 0, offset: 1 })).toBe(true);
  });

  it('should admit lower offsets again after a clear (a reset: the log may have started again)', () => {
    sut.admit({ topic: 'orders', partition: 0, offset: 9 });
    sut.clear();

    expect(sut.admit({ topic: 'orders', partition: 0, offset: 0 })).toBe(true);
  });

  it('should admit an event without a position', () => {
    expect(sut.admit(undefined)).toBe(true);
    expect(sut.admit(undefined)).toBe(true);
  });
});
