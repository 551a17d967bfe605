import type { Channel, Locks, TabMessage } from '../tab-group.js';

interface Waiter {
  readonly name: string;
  readonly run: (lock: Lock) => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Web Locks as a browser keeps them for one origin: exclusive, granted in request order,
 * released when the callback's promise settles, or when the test says the tab is gone.
 */
export class FakeLocks implements Locks {
  private readonly holders = new Map<string, Waiter>();
  private readonly queues = new Map<string, Waiter[]>();

  request: Locks['request'] = ((
    name: string,
    optionsOrRun: LockOptions | ((lock: Lock) => unknown),
    maybeRun?: (lock: Lock) => unknown,
  ): Promise<unknown> => {
    const options = typeof optionsOrRun === 'function' ? {} : optionsOrRun;
    const run = typeof optionsOrRun === 'function' ? optionsOrRun : maybeRun!;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { name, run, resolve, reject };
      options.signal?.addEventListener('abort', () => {
        const queue = this.queues.get(name) ?? [];
        if (!queue.includes(waiter)) return;
        queue.splice(queue.indexOf(waiter), 1);
        reject(new DOMException('The request was aborted', 'AbortError'));
      });
      this.queues.set(name, [...(this.queues.get(name) ?? []), waiter]);
      this.grant(name);
    });
  });

  query: Locks['query'] = () =>
    Promise.resolve({
      held: [...this.holders.keys()].map((name) => ({ name, mode: 'exclusive' as const, clientId: 'c' })),
      pending: [],
    });

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
  /** Every channel opened, in order: one per tab. */
  readonly opened: FakeChannel[] = [];
  private readonly channels = new Set<FakeChannel>();

  open = (): Channel => {
    const channel = new FakeChannel(this);
    this.channels.add(channel);
    this.opened.push(channel);
    return channel;
  };

  deliver(from: FakeChannel, message: TabMessage): void {
    for (const channel of this.channels) {
      if (channel === from) continue;
      const copy = structuredClone(message);
      queueMicrotask(() => channel.receive(copy));
    }
  }

  remove(channel: FakeChannel): void {
    this.channels.delete(channel);
  }
}

class FakeChannel implements Channel {
  onmessage: ((event: { data: TabMessage }) => void) | null = null;
  private open = true;
  private crashed = false;

  constructor(private readonly hub: FakeChannels) {}

  postMessage(message: TabMessage): void {
    if (this.crashed) return;
    if (!this.open) throw new DOMException('Channel is closed', 'InvalidStateError');
    this.hub.deliver(this, message);
  }

  /** The tab is gone: whatever its code still does reaches no other tab. */
  crash(): void {
    this.crashed = true;
    this.close();
  }

  receive(message: TabMessage): void {
    if (this.open) this.onmessage?.({ data: message });
  }

  close(): void {
    this.open = false;
    this.hub.remove(this);
  }
}
