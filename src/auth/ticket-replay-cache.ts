/**
 * The ids (`jti`) of the stream tickets this instance has accepted, each kept until its ticket
 * expires, so that a ticket starts one stream here. It is bounded: past `maxSize` live tickets the
 * oldest are forgotten early. Other instances keep their own: see the README's security model.
 */
export class TicketReplayCache {
  /** jti → when its ticket expires (epoch ms), in the order they were spent. */
  private readonly spent = new Map<string, number>();

  constructor(private readonly maxSize: number) {}

  get size(): number {
    return this.spent.size;
  }

  /** Whether `jti` was spent and its ticket has not expired. */
  isSpent(jti: string, now = Date.now()): boolean {
    const known = this.spent.get(jti);
    return known !== undefined && known > now;
  }

  /** True the first time `jti` is spent; false when it was spent before and has not expired. */
  spend(jti: string, expiresAt: number, now = Date.now()): boolean {
    this.forgetExpired(now);
    if (this.isSpent(jti, now)) return false;
    this.spent.delete(jti);
    this.spent.set(jti, expiresAt);
    if (this.spent.size > this.maxSize) this.spent.delete(this.spent.keys().next().value!);
    return true;
  }

  /**
   * Tickets live TICKET_TTL_SECONDS or less, so they expire in about the order they were spent:
   * the expired ones are at the front. One that expires early behind a longer one waits its turn;
   * jose refuses it as expired before it is looked up.
   */
  private forgetExpired(now: number): void {
    for (const [jti, expiresAt] of this.spent) {
      if (expiresAt > now) return;
      this.spent.delete(jti);
    }
  }
}
