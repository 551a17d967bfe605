import { GatewayError } from '../common/gateway-error.js';
import { TokenBucket, TokenBuckets } from '../common/token-bucket.js';

export interface StreamLimitSettings {
  readonly maxPerUser: number;
  readonly maxTotal: number;
  readonly opensPerSecond: number;
  readonly opensPerUserPerMinute: number;
}

/** When a client over a count limit should try again: about when a stream turns over. */
const COUNT_RETRY_AFTER_SECONDS = 30;

/**
 * How many streams may be open, per user and on the instance, and how fast they may be opened:
 * a reconnect storm after a deploy is spread out with 429 and Retry-After instead of blocking the
 * event loop. Counts move with `opened` and `closed`; `admit` throws the refusal.
 */
export class StreamLimits {
  private readonly perUser = new Map<string, number>();
  private readonly userBuckets: TokenBuckets;
  private readonly instanceBucket: TokenBucket;
  private total = 0;

  constructor(
    private readonly settings: StreamLimitSettings,
    now = Date.now(),
  ) {
    this.instanceBucket = new TokenBucket(2 * settings.opensPerSecond, settings.opensPerSecond / 1000, now);
    const perMinute = settings.opensPerUserPerMinute;
    this.userBuckets = new TokenBuckets(Math.max(5, Math.ceil(perMinute / 10)), perMinute / 60_000);
  }

  get open(): number {
    return this.total;
  }

  /** Users whose opening rate is remembered. */
  get usersRateTracked(): number {
    return this.userBuckets.size;
  }

  openFor(userId: string): number {
    return this.perUser.get(userId) ?? 0;
  }

  /** Refuses a new stream of `userId` with a 429 GatewayError, or takes its place in the rates. */
  admit(userId: string, now = Date.now()): void {
    if (this.total >= this.settings.maxTotal) {
      throw new GatewayError(
        'too-many-streams',
        'This instance holds as many streams as it may',
        COUNT_RETRY_AFTER_SECONDS,
      );
    }
    if (this.openFor(userId) >= this.settings.maxPerUser) {
      throw new GatewayError(
        'too-many-streams',
        'Too many open streams for this user',
        COUNT_RETRY_AFTER_SECONDS,
      );
    }
    const bucket = this.userBuckets.of(userId, now);
    const userWait = bucket.wait(now);
    if (userWait !== undefined) {
      throw new GatewayError('rate-limited', 'This user opens streams too fast', userWait);
    }
    const instanceWait = this.instanceBucket.wait(now);
    if (instanceWait !== undefined) {
      throw new GatewayError(
        'rate-limited',
        'This instance is opening too many streams; try again shortly',
        instanceWait,
      );
    }
    bucket.take();
    this.instanceBucket.take();
  }

  opened(userId: string): void {
    this.total++;
    this.perUser.set(userId, this.openFor(userId) + 1);
  }

  closed(userId: string): void {
    this.total--;
    const count = this.openFor(userId) - 1;
    if (count > 0) this.perUser.set(userId, count);
    else this.perUser.delete(userId);
  }

  /** Forgets the rates of users whose bucket has filled up again, so the map follows activity. */
  sweep(now = Date.now()): void {
    this.userBuckets.sweep(now);
  }
}
