/** What replacing a consumer takes, supplied by the transport that owns it. */
export interface ReplacementSteps {
  /** Stops the old consumer and starts a new one; resolves once the new one runs. */
  restart(): Promise<void>;
  /** A new consumer runs, after one stopped for `cause`. */
  restarted(cause: string): void;
  /** Whether the consumer has been down too long; replacing then stops (the process is replaced). */
  overdue(reason: string): boolean;
  warn(message: string): void;
}

export interface ReplacementDelays {
  readonly firstMs: number;
  readonly maxMs: number;
}

/**
 * Replaces a stopped consumer until a new one runs, with a growing delay between attempts. A
 * consumer that stops again while it starts (kafkajs reports a group join it gave up on as a
 * crash from inside `run`, which then resolves) sends the loop round again: that stop comes in
 * while the attempt is still under way, and must not be taken for a success.
 */
export class ConsumerReplacer {
  /** Why a replacement is wanted, until an attempt takes it up. */
  private wanted: string | undefined;
  private running = false;
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly steps: ReplacementSteps,
    private readonly delays: ReplacementDelays,
  ) {}

  /** The current consumer stopped for `cause`: replace it, now or once the attempt under way ends. */
  request(cause: string): void {
    if (this.closed) return;
    this.wanted = cause;
    if (!this.running) void this.replace();
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  private async replace(): Promise<void> {
    this.running = true;
    try {
      let delay = this.delays.firstMs;
      while (this.wanted !== undefined && !this.closed) {
        await this.sleep(delay);
        delay = Math.min(2 * delay, this.delays.maxMs);
        const cause = this.wanted;
        if (this.closed || cause === undefined) return;
        this.wanted = undefined;
        try {
          await this.steps.restart();
          if (this.wanted === undefined) this.steps.restarted(cause);
        } catch (err) {
          this.wanted ??= cause;
          const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
          this.steps.warn(`Could not start a new Kafka consumer yet: ${reason}`);
          if (this.steps.overdue(reason)) return;
        }
      }
    } finally {
      this.running = false;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((done) => {
      const timer = setTimeout(done, ms);
      this.wake = () => {
        clearTimeout(timer);
        done();
      };
    });
  }
}

/** Errors of a broker that cannot be reached: every instance has them, so streams stay put. */
const CONNECTIVITY_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
]);

/** Whether a consumer stopped because no broker could be reached (its cause chain included). */
export function isConnectivityError(err: unknown): boolean {
  for (let cause = err as { name?: unknown; cause?: unknown } | undefined; cause;) {
    if (typeof cause.name === 'string' && CONNECTIVITY_ERRORS.has(cause.name)) return true;
    cause = cause.cause as typeof cause;
  }
  return false;
}
