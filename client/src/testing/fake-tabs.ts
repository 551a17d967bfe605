import type { Channel, Locks } from '../tab-group.js';

interface Waiter {
  readonly name: string;
  readonly run: (lock: Lock | null) => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Web Locks as a browser keeps them for one origin: exclusive, granted in request order,
 * released when the callback's promise settles, or when the test says the tab is gone; `steal`
 * takes a lock from its holder (whose request then fails), `ifAvailable` gets null when it is held.
 */
export class FakeLocks implements Locks {
  private readonly holders = new Map<string, Waiter>();
  private readonly queues = new Map<string, Waiter[]>();
  private heldQueries: Array<() => void> | undefined;

  request: Locks['request'] = (
    name: string,
    optionsOrRun: LockOptions | ((lock: Lock | null) => unknown),
    maybeRun?: (lock: Lock | null) => unknown,
  ): Promise<unknown> => {
    const options = typeof optionsOrRun === 'function' ? {} : optionsOrRun;
    const run = typeof optionsOrRun === 'function' ? optionsOrRun : maybeRun!;
    if (options.steal && (options.signal || options.ifAvailable)) {
      return Promise.reject(new DOMException('steal with signal or ifAvailable', 'NotSupportedError'));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { name, run, resolve, reject };
      if (options.ifAvailable && (this.holders.has(name) || this.queues.get(name)?.length)) {
        Promise.resolve()
          .then(() => run(null))
          .then(resolve, reject);
        return;
      }
      if (options.steal) {
        const holder = this.holders.get(name);
        this.holders.delete(name);
        holder?.reject(new DOMException('The lock was stolen', 'AbortError'));
        this.queues.set(name, [waiter, ...(this.queues.get(name) ?? [])]);
        this.grant(name);
        return;
      }
      options.signal?.addEventListener('abort', () => {
        const queue = this.queues.get(name) ?? [];
        if (!queue.includes(waiter)) return;
        queue.splice(queue.indexOf(waiter), 1);
        reject(new DOMException('The request was aborted', 'AbortError'));
      });
      this.queues.set(name, [...(this.queues.get(name) ?? []), waiter]);
      this.grant(name);
    });
  };

  /** Answers with the locks held when it was asked, once the test lets queries through (see holdQueries). */
  query: Locks['query'] = () => {
    const snapshot = {
      held: [...this.holders.keys()].map((name) => ({ name, mode: 'exclusive' as const, clientId: 'c' })),
      pending: [],
    };
    if (!this.heldQueries) return Promise.resolve(snapshot);
    return new Promise((resolve) => this.heldQueries!.push(() => resolve(snapshot)));
  };

  /** Queries wait from now on, until `releaseQueries`. */
  holdQueries(): void {
    this.heldQueries = [];
  }

  releaseQueries(): void {
    const waiting = this.heldQueries ?? [];
    this.heldQueries = undefined;
    waiting.forEach((answer) => answer());
  }

  /** The names of the locks held now. */
  held(): string[] {
    return [...this.holders.keys()];
  }

  /** The browser releases every lock of a tab that closed or crashed, whatever its code was doing. */
  drop(names: string[]): void {
    for (const name of names) {
      this.holders.delete(name);
      this.grant(name);
    }
  }

  private grant(name: string): void {
    if (this.holders.has(name)) return;
    const waiter = this.queues.get(name)?.shift();
    if (!waiter) return;
    this.holders.set(name, waiter);
    Promise.resolve()
      .then(() => waiter.run({ name, mode: 'exclusive' }))
      .then(waiter.resolve, waiter.reject)
      .finally(() => {
        if (this.holders.get(name) !== waiter) return;
        this.holders.delete(name);
        this.grant(name);
      });
  }
}

/** BroadcastChannels of one name: each message reaches every other open channel, in order, as a copy. */
export class FakeChannels {
  /** Every channel opened, in order: one per tab (a tab back from the back-forward cache opens another). */
  readonly opened: FakeChannel[] = [];
  private readonly channels = new Set<FakeChannel>();

  open = (name: string): Channel => {
    const channel = new FakeChannel(this, name);
    this.channels.add(channel);
    this.opened.push(channel);
    return channel;
  };

  /** Posts a message as a script of the origin would, from no tab of the group. */
  inject(message: unknown): void {
    for (const channel of this.channels) {
      const copy = structuredClone(message);
      queueMicrotask(() => channel.receive(copy));
    }
  }

  deliver(from: FakeChannel, message: unknown): void {
    for (const channel of this.channels) {
      if (channel === from || channel.name !== from.name) continue;
      const copy = structuredClone(message);
      queueMicrotask(() => channel.receive(copy));
    }
  }

  remove(channel: FakeChannel): void {
    this.channels.delete(channel);
  }
}

export class FakeChannel implements Channel {
  onmessage: ((event: { data: unknown }) => void) | null = null;
  open = true;
  private crashed = false;
  /** While suspended, what it would post is lost and what it would receive waits (or is lost too). */
  private suspended: unknown[] | undefined;
  private losing = false;

  constructor(
    private readonly hub: FakeChannels,
    readonly name: string,
  ) {}

  postMessage(message: unknown): void {
    if (this.crashed || this.suspended) return;
    if (!this.open) throw new DOMException('Channel is closed', 'InvalidStateError');
    this.hub.deliver(this, message);
  }

  /** The tab is gone: whatever its code still does reaches no other tab. */
  crash(): void {
    this.crashed = true;
    this.close();
  }

  /** The tab is suspended (its code does not run), with no word to anyone. */
  suspend(options: { loseIncoming?: boolean } = {}): void {
    this.suspended = [];
    this.losing = options.loseIncoming ?? false;
  }

  /** It runs again, and gets what was posted meanwhile. */
  wake(): void {
    const waiting = this.suspended ?? [];
    this.suspended = undefined;
    waiting.forEach((message) => this.receive(message));
  }

  receive(message: unknown): void {
    if (this.suspended) {
      if (!this.losing) this.suspended.push(message);
    } else if (this.open) this.onmessage?.({ data: message });
  }

  close(): void {
    this.open = false;
    this.hub.remove(this);
  }
}
