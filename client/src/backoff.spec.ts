import { Backoff, retryAfterMs } from './backoff.js';

describe(Backoff.name, () => {
  it('should wait between 0 and base × 2^attempt, capped', () => {
    const highest = new Backoff(1000, 5000, () => 0.999_999);
    const lowest = new Backoff(1000, 5000, () => 0);

    expect([1, 2, 3, 4, 5].map(() => highest.next())).toEqual([999, 1999, 3999, 4999, 4999]);
    expect([1, 2, 3].map(() => lowest.next())).toEqual([0, 0, 0]);
  });

  it('should start from the server’s retry once it is known, and again after a reset', () => {
    const sut = new Backoff(2000, 30_000, () => 0.5);
    sut.setBase(200);

    expect([sut.next(), sut.next()]).toEqual([100, 200]);
    sut.reset();
    expect(sut.next()).toBe(100);
  });

  it('should ignore a retry that is not a duration', () => {
    const sut = new Backoff(2000, 30_000, () => 0.5);
    sut.setBase(Number.NaN);
    sut.setBase(-1);

    expect(sut.next()).toBe(1000);
  });
});

describe(retryAfterMs.name, () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('should read delay-seconds', () => {
    expect(retryAfterMs('3', now)).toBe(3000);
  });

  it('should read an HTTP date', () => {
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
  });

  it.each([null, '', 'soon', '-1'])('should give nothing for %p', (header) => {
    expect(retryAfterMs(header, now)).toBeUndefined();
  });
});
