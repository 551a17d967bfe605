import type { Environment } from '../environment.js';

interface Timer {
  readonly at: number;
  readonly run: () => void;
}

/** Time that moves only when a test says so, with the timers due on the way. */
export class FakeClock {
  time = 1_000_000;
  private readonly timers = new Map<number, Timer>();
  private nextHandle = 1;

  setTimeout = (run: () => void, ms: number): unknown => {
    const handle = this.nextHandle++;
    this.timers.set(handle, { at: this.time + Math.max(0, ms), run });
    return handle;
  };

  clearTimeout = (handle: unknown): void => {
    this.timers.delete(handle as number);
  };

  /** The delays of the timers now pending, soonest first. */
  pendingDelays(): number[] {
    return [...this.timers.values()].map((timer) => timer.at - this.time).sort((a, b) => a - b);
  }

  /** Moves time on by `ms`, running each timer that falls due, and lets promises settle after each. */
  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    for (;;) {
      await settle();
      const due = [...this.timers.entries()]
        .filter(([, timer]) => timer.at <= until)
        .sort(([, a], [, b]) => a.at - b.at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].run();
    }
    this.time = until;
    await settle();
  }

  environment(fetch: typeof globalThis.fetch, random = () => 0.5): Environment {
    return {
      fetch,
      setTimeout: this.setTimeout,
      clearTimeout: this.clearTimeout,
      now: () => this.time,
      random,
    };
  }
}

/** Lets pending promise callbacks and stream reads run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}
