/** A token bucket: `capacity` at once, refilled at `perMs` a millisecond. */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly capacity: number,
    private readonly perMs: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.updatedAt = now;
  }

  /** Undefined when a token is there; otherwise the whole seconds until there is one. */
  wait(now: number): number | undefined {
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.updatedAt) * this.perMs);
    this.updatedAt = now;
    return this.tokens >= 1 ? undefined : Math.max(1, Math.ceil((1 - this.tokens) / this.perMs / 1000));
  }

  take(): void {
    this.tokens -= 1;
  }

  isFull(now: number): boolean {
    return this.tokens + (now - this.updatedAt) * this.perMs >= this.capacity;
  }
}

/**
 * A token bucket per key (a user, a publisher), made full on first use. A bucket that has filled
 * up again behaves as a new one would, so `sweep` may forget it: the map follows activity.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly capacity: number,
    private readonly perMs: number,
  ) {}

  get size(): number {
    return this.buckets.size;
  }

  of(key: string, now: number): TokenBucket {
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = new TokenBucket(this.capacity, this.perMs, now)));
    return bucket;
  }

  sweep(now: number): void {
    for (const [key, bucket] of this.buckets) if (bucket.isFull(now)) this.buckets.delete(key);
  }
}
