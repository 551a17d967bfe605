import { GatewayError } from '../common/gateway-error.js';
import { TokenBuckets } from '../common/token-bucket.js';

/** Publishers tracked before the idle ones (whose bucket is full again) are forgotten. */
const SWEEP_AT = 10_000;

/**
 * How fast each publisher (a token's `sub`) may publish: `perSecond` on average, in bursts of
 * twice that, so one busy or broken service cannot take the Kafka producer for itself.
 */
export class PublishRate {
  private readonly buckets: TokenBuckets;

  constructor(perSecond: number) {
    this.buckets = new TokenBuckets(2 * perSecond, perSecond / 1000);
  }

  /** Takes a publish of `publisher`, or refuses it with a 429 GatewayError and when to retry. */
  admit(publisher: string, now = Date.now()): void {
    if (this.buckets.size >= SWEEP_AT) this.buckets.sweep(now);
    const bucket = this.buckets.of(publisher, now);
    const wait = bucket.wait(now);
    if (wait !== undefined) throw new GatewayError('rate-limited', 'This publisher publishes too fast', wait);
    bucket.take();
  }

  get tracked(): number {
    return this.buckets.size;
  }
}
