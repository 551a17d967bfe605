import { TicketReplayCache } from './ticket-replay-cache.js';

describe(TicketReplayCache.name, () => {
  const now = 1_000_000;

  it('should let a ticket id be spent once until its ticket expires', () => {
    const sut = new TicketReplayCache(10);

    expect(sut.spend('a', now + 30_000, now)).toBe(true);
    expect(sut.spend('a', now + 30_000, now + 1)).toBe(false);
    expect(sut.spend('a', now + 30_000, now + 29_999)).toBe(false);
  });

  it('should forget ids once their tickets have expired, so it holds one TTL of tickets at most', () => {
    const sut = new TicketReplayCache(10);
    sut.spend('a', now + 30_000, now);
    sut.spend('b', now + 40_000, now + 10_000);

    sut.spend('c', now + 60_000, now + 30_000);

    expect(sut.size).toBe(2);
    sut.spend('d', now + 90_000, now + 60_000);
    expect(sut.size).toBe(1);
  });

  it('should forget an early-expiring id behind a longer one once it reaches the front', () => {
    const sut = new TicketReplayCache(10);
    sut.spend('long', now + 30_000, now);
    sut.spend('short', now + 5_000, now);

    sut.spend('x', now + 40_000, now + 10_000);
    expect(sut.size).toBe(3);

    sut.spend('y', now + 60_000, now + 30_000);
    expect(sut.size).toBe(2);
  });

  it('should hold at most maxSize ids, forgetting the oldest first', () => {
    const sut = new TicketReplayCache(3);
    for (const id of ['a', 'b', 'c', 'd']) sut.spend(id, now + 30_000, now);

    expect(sut.size).toBe(3);
    expect(sut.spend('a', now + 30_000, now)).toBe(true);
    expect(sut.spend('d', now + 30_000, now)).toBe(false);
  });
});
