/** The reconnection delay before the server has said otherwise (`retry:`). */
export const DEFAULT_RETRY_MS = 2000;
export const DEFAULT_MAX_RETRY_MS = 30_000;

/**
 * Reconnection delays with full jitter: attempt n waits a random time between 0 and
 * min(max, base × 2^n), so clients dropped together do not come back together. The base is the
 * server's `retry:`.
 */
export class Backoff {
  private attempts = 0;

  constructor(
    private baseMs = DEFAULT_RETRY_MS,
    private readonly maxMs = DEFAULT_MAX_RETRY_MS,
    private readonly random: () => number = Math.random,
  ) {}

  /** The server's `retry:` becomes the base of the next delays. */
  setBase(ms: number): void {
    if (Number.isFinite(ms) && ms >= 0) this.baseMs = ms;
  }

  next(): number {
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** this.attempts);
    this.attempts = Math.min(this.attempts + 1, 30);
    return Math.floor(this.random() * ceiling);
  }

  /** A stream that opened starts the sequence again. */
  reset(): void {
    this.attempts = 0;
  }
}

/** `Retry-After` in milliseconds: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[A-Za-z]/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
