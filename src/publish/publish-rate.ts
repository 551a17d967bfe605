import { GatewayError } from '../common/gateway-error.js';
import { TokenBucket } from '../common/token-bucket.js';

/** Publishers tracked before the idle ones (whose bucket is full again) are forgotten. */
const SWEEP_AT = 10_000;

/**
 * How fast each publisher (a token's `sub`) may publish: `perSecond` on average, in bursts of
 * twice that, so one busy or broken service cannot take the Kafka producer for itself.
 */
export class PublishRate {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly perSecond: number) {}

  /** Takes a publish of `publisher`, or refuses it with a 429 GatewayError and when to retry. */
  admit(publisher: string, now = Date.now()): void {
    if (this.buckets.size >= SWEEP_AT) this.sweep(now);
    let bucket = this.buckets.get(publisher);
    if (!bucket) {
      bucket = new TokenBucket(2 * this.perSecond, this.perSecond / 1000, now);
      this.buckets.set(publisher, bucket);
    }
    const wait = bucket.wait(now);
    if (wait !== undefined) throw new GatewayError('rate-limited', 'This publisher publishes too fast', wait);
    bucket.take();
  }

  get tracked(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    for (const [publisher, bucket] of this.buckets) if (bucket.isFull(now)) this.buckets.delete(publisher);
  }
}
