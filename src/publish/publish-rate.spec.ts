import { GatewayError } from '../common/gateway-error.js';
import { PublishRate } from './publish-rate.js';

function refusalOf(action: () => void): GatewayError | undefined {
  try {
    action();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  return undefined;
}

describe(PublishRate.name, () => {
  const now = 1_000_000;

  it('should take bursts of twice the rate, then refuse with 429 and when to retry', () => {
    const sut = new PublishRate(2);
    for (let n = 0; n < 4; n++) sut.admit('billing', now);

    const refused = refusalOf(() => sut.admit('billing', now));

    expect(refused).toMatchObject({ code: 'rate-limited', status: 429, retryAfterSeconds: 1 });
    expect(refused?.message).toBe('This publisher publishes too fast');
  });

  it('should refill at the rate', () => {
    const sut = new PublishRate(2);
    for (let n = 0; n < 4; n++) sut.admit('billing', now);

    expect(refusalOf(() => sut.admit('billing', now + 499))).toBeDefined();
    expect(refusalOf(() => sut.admit('billing', now + 500))).toBeUndefined();
  });

  it('should keep each publisher to its own rate', () => {
    const sut = new PublishRate(1);
    sut.admit('billing', now);
    sut.admit('billing', now);

    expect(refusalOf(() => sut.admit('billing', now))).toBeDefined();
    expect(refusalOf(() => sut.admit('shipping', now))).toBeUndefined();
  });

  it('should say how long to wait for a slow rate', () => {
    const sut = new PublishRate(1);
    sut.admit('billing', now);
    sut.admit('billing', now);

    expect(refusalOf(() => sut.admit('billing', now + 100))?.retryAfterSeconds).toBe(1);
  });

  it('should forget idle publishers once it tracks many', () => {
    const sut = new PublishRate(1000);
    for (let n = 0; n < 10_000; n++) sut.admit(`publisher-${n}`, now);
    expect(sut.tracked).toBe(10_000);

    sut.admit('late', now + 60_000);

    expect(sut.tracked).toBe(1);
  });
});
