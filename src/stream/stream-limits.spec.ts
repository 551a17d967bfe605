import { GatewayError } from '../common/gateway-error.js';
import { StreamLimits, type StreamLimitSettings } from './stream-limits.js';

const NOW = 1_700_000_000_000;
const SETTINGS: StreamLimitSettings = {
  maxPerUser: 2,
  maxTotal: 3,
  opensPerSecond: 1000,
  opensPerUserPerMinute: 600,
};

function refusal(admit: () => void): GatewayError {
  try {
    admit();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe(StreamLimits.name, () => {
  let sut: StreamLimits;

  beforeEach(() => {
    sut = new StreamLimits(SETTINGS, NOW);
  });

  const open = (userId: string, now = NOW): void => {
    sut.admit(userId, now);
    sut.opened(userId);
  };

  it('should refuse a user over its stream count with 429 and Retry-After', () => {
    open('alice');
    open('alice');

    const error = refusal(() => sut.admit('alice', NOW));

    expect(error).toMatchObject({ code: 'too-many-streams', status: 429, retryAfterSeconds: 30 });
    expect(() => sut.admit('bob', NOW)).not.toThrow();
  });

  it('should refuse the instance over its stream count', () => {
    open('alice');
    open('bob');
    open('carol');

    expect(refusal(() => sut.admit('dave', NOW))).toMatchObject({
      code: 'too-many-streams',
      message: 'This instance holds as many streams as it may',
    });
  });

  it('should give a slot back when a stream closes', () => {
    open('alice');
    open('alice');
    sut.closed('alice');

    expect(() => sut.admit('alice', NOW)).not.toThrow();
    expect(sut.open).toBe(1);
    expect(sut.openFor('alice')).toBe(1);
  });

  it('should limit how fast one user opens streams, with the wait until the next one as Retry-After', () => {
    sut = new StreamLimits({ ...SETTINGS, maxPerUser: 100, maxTotal: 1000, opensPerUserPerMinute: 60 }, NOW);
    for (let i = 0; i < 6; i++) {
      open('alice');
      sut.closed('alice');
    }

    expect(refusal(() => sut.admit('alice', NOW))).toMatchObject({
      code: 'rate-limited',
      status: 429,
      retryAfterSeconds: 1,
    });
    expect(() => sut.admit('bob', NOW)).not.toThrow();
    expect(() => sut.admit('alice', NOW + 1000)).not.toThrow();
  });

  it('should limit how fast the instance opens streams, bursting to twice its rate', () => {
    sut = new StreamLimits(
      { maxPerUser: 1000, maxTotal: 1000, opensPerSecond: 5, opensPerUserPerMinute: 1000 },
      NOW,
    );
    for (let i = 0; i < 10; i++) sut.admit(`user-${i}`, NOW);

    expect(refusal(() => sut.admit('another', NOW))).toMatchObject({
      code: 'rate-limited',
      retryAfterSeconds: 1,
    });
    expect(() => sut.admit('another', NOW + 200)).not.toThrow();
  });

  it('should not spend a user token on an open the instance refuses', () => {
    sut = new StreamLimits(
      { maxPerUser: 1000, maxTotal: 1000, opensPerSecond: 1, opensPerUserPerMinute: 30 },
      NOW,
    );
    sut.admit('alice', NOW);
    sut.admit('alice', NOW);
    for (let i = 0; i < 3; i++)
      expect(refusal(() => sut.admit('alice', NOW)).message).toContain('This instance');

    sut.admit('alice', NOW + 1000);
    sut.admit('alice', NOW + 2000);
    sut.admit('alice', NOW + 3000);
  });

  it('should forget the rates of users that have been quiet long enough, and only theirs', () => {
    sut.admit('alice', NOW);
    for (let i = 0; i < 60; i++) sut.admit('bob', NOW + 60_000);

    sut.sweep(NOW + 60_000);

    // alice's bucket is full again, bob's is not: only alice is forgotten.
    expect(sut.usersRateTracked).toBe(1);
    expect(() => sut.admit('bob', NOW + 60_000)).toThrow('This user opens streams too fast');
    for (let i = 0; i < 60; i++) sut.admit('alice', NOW + 60_000);
  });
});
