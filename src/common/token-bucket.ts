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
