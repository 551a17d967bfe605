import { EventStream, type StreamOptions, type StreamState } from './event-stream.js';
import type { Environment } from './environment.js';
import type { Feed, FeedListener } from './feed.js';
import type { SseBlock } from './sse-connection.js';
import { StreamError, type StreamErrorCode } from './stream-error.js';

/** What the tabs of one group say to each other over their BroadcastChannel. */
export type TabMessage =
  /** A tab is here and wants these topics (undefined: every topic). */
  | { readonly kind: 'join'; readonly from: string; readonly topics: readonly string[] | undefined }
  | { readonly kind: 'leave'; readonly from: string }
  /** The sender holds the stream now. */
  | { readonly kind: 'lead'; readonly from: string }
  | {
      readonly kind: 'block';
      readonly from: string;
      readonly block: SseBlock;
      readonly lastId: string | undefined;
    }
  | { readonly kind: 'position'; readonly from: string; readonly lastId: string | undefined }
  | { readonly kind: 'state'; readonly from: string; readonly state: WireState; readonly tabs: number };

/** A StreamState as it crosses the channel (an Error does not keep its class there). */
type WireState =
  | Exclude<StreamState, { status: 'closed' }>
  | {
      readonly status: 'closed';
      readonly error?: { code: StreamErrorCode; status: number; message: string };
    };

/** The parts of BroadcastChannel and LockManager a group uses; tests pass their own. */
export interface Channel {
  postMessage(message: TabMessage): void;
  onmessage: ((event: { data: TabMessage }) => void) | null;
  close(): void;
}
export type Locks = Pick<LockManager, 'request' | 'query'>;

export interface TabGroupOptions {
  /** Tabs with the same name share one stream. */
  readonly name: string;
  readonly tabId: string;
  readonly stream: StreamOptions;
  readonly locks: Locks;
  readonly channel: Channel;
  readonly env: Environment;
}

/**
 * The tabs of an origin that share one stream. Each tab asks for the group's Web Lock; the one
 * that holds it (the leader) runs the stream for the union of every tab's topics and posts each
 * block, with the last id after it, on a BroadcastChannel; the others listen. When the leader tab
 * closes (the browser releases its lock) or freezes (it lets go), the next tab in the lock's
 * queue takes over from the last id it heard, so no tab misses an event; what a tab has already
 * handed over is dropped by its `DeliveredPositions`.
 */
export class TabGroup implements Feed {
  /** Every tab of the group that said it is here, with the topics it wants; this tab included. */
  private readonly members = new Map<string, readonly string[] | undefined>();
  private lastId: string | undefined;
  private stream: EventStream | undefined;
  private lockRequest: AbortController | undefined;
  private releaseLeadership: (() => void) | undefined;
  private releasePresence: (() => void) | undefined;
  private state: StreamState = { status: 'connecting' };
  private stopped = false;

  constructor(
    private readonly options: TabGroupOptions,
    private readonly listener: FeedListener,
  ) {
    this.lastId = options.stream.lastEventId;
    this.members.set(options.tabId, options.stream.topics);
  }

  get lastEventId(): string | undefined {
    return this.lastId;
  }

  private get leader(): boolean {
    return this.stream !== undefined;
  }

  start(): void {
    this.options.channel.onmessage = (event) => this.heard(event.data);
    // Held for the tab's whole life: the leader counts the tabs still here by these locks.
    void this.options.locks.request(this.presenceLock(this.options.tabId), () => {
      return new Promise<void>((release) => (this.releasePresence = release));
    });
    this.say({ kind: 'join', topics: this.options.stream.topics });
    // The first status comes from the stream: this tab's, or the leader's over the channel.
    this.campaign();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.say({ kind: 'leave' });
    this.stepDown();
    this.releasePresence?.();
    this.options.channel.close();
    // A stream that gave up was reported closed already, with its error.
    if (this.state.status !== 'closed') this.listener.state({ status: 'closed' }, this.sharing());
  }

  /** The tab is frozen or hidden in the back-forward cache: let another tab hold the stream. */
  suspend(): void {
    this.stepDown();
  }

  resume(): void {
    if (!this.stopped && !this.leader && !this.lockRequest) this.campaign();
  }

  /** Queues for the leader lock; holds it, and the stream, until it steps down. */
  private campaign(): void {
    const request = new AbortController();
    this.lockRequest = request;
    this.options.locks
      .request(`${this.options.name}:leader`, { signal: request.signal }, () => {
        if (this.stopped || request.signal.aborted) return;
        return new Promise<void>((release) => {
          this.releaseLeadership = release;
          this.lead();
        });
      })
      .catch(() => {
        // Aborted by stepDown: the tab asks again when it resumes.
      });
  }

  private stepDown(): void {
    this.lockRequest?.abort();
    this.lockRequest = undefined;
    const stream = this.stream;
    this.stream = undefined;
    stream?.stop();
    this.releaseLeadership?.();
    this.releaseLeadership = undefined;
  }

  private lead(): void {
    const stream = new EventStream(
      { ...this.options.stream, topics: this.union(), lastEventId: this.lastId },
      {
        block: (block, lastId) => {
          if (stream !== this.stream) return;
          this.lastId = lastId;
          this.say({ kind: 'block', block, lastId });
          this.listener.block(block);
        },
        position: (lastId) => {
          if (stream !== this.stream) return;
          this.lastId = lastId;
          this.say({ kind: 'position', lastId });
          void this.pruneMembers();
        },
        state: (state) => {
          if (stream !== this.stream) return;
          if (state.status === 'closed') this.stream = undefined;
          this.setState(state);
          if (state.status === 'closed') this.stopAfterLeaderGaveUp();
        },
      },
      this.options.env,
    );
    this.stream = stream;
    this.say({ kind: 'lead' });
    stream.start();
    void this.pruneMembers();
  }

  private heard(message: TabMessage): void {
    if (this.stopped || message.from === this.options.tabId) return;
    switch (message.kind) {
      case 'join':
        this.members.set(message.from, message.topics);
        if (this.leader) {
          this.membersChanged();
          this.say({ kind: 'position', lastId: this.lastId });
        }
        return;
      case 'leave':
        this.members.delete(message.from);
        if (this.leader) this.membersChanged();
        return;
      case 'lead':
        // The new leader learns who is here, and what each tab wants, from the answers.
        this.say({ kind: 'join', topics: this.options.stream.topics });
        return;
      case 'block':
        if (this.leader) return;
        this.lastId = message.lastId;
        this.listener.block(message.block);
        return;
      case 'position':
        if (!this.leader && message.lastId !== undefined) this.lastId = message.lastId;
        return;
      case 'state':
        if (this.leader) return;
        this.state = stateOf(message.state);
        this.listener.state(this.state, { tabs: message.tabs, leader: false });
        if (this.state.status === 'closed') this.stopAfterLeaderGaveUp();
        return;
    }
  }

  /** The leader's stream failed for good (a 401, 403 or 400): every tab shares its token and topics. */
  private stopAfterLeaderGaveUp(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stepDown();
    this.releasePresence?.();
    this.options.channel.close();
  }

  private membersChanged(): void {
    this.stream?.setTopics(this.union());
    this.setState(this.state);
  }

  private setState(state: StreamState): void {
    this.state = state;
    this.say({ kind: 'state', state: wireState(state), tabs: this.members.size });
    this.listener.state(state, this.sharing());
  }

  /** Forgets tabs that went away without a word (crashed, killed): their presence lock is free. */
  private async pruneMembers(): Promise<void> {
    const { held = [] } = await this.options.locks.query();
    const here = new Set(held.map((lock) => lock.name));
    let changed = false;
    for (const tab of this.members.keys()) {
      if (tab !== this.options.tabId && !here.has(this.presenceLock(tab))) {
        this.members.delete(tab);
        changed = true;
      }
    }
    if (changed && this.leader) this.membersChanged();
  }

  /** What the stream must carry: every topic some tab wants (undefined when one wants all). */
  private union(): readonly string[] | undefined {
    const topics = new Set<string>();
    for (const wanted of this.members.values()) {
      if (wanted === undefined) return undefined;
      wanted.forEach((topic) => topics.add(topic));
    }
    return [...topics].sort();
  }

  private sharing(): { tabs: number; leader: boolean } {
    return { tabs: this.members.size, leader: this.leader };
  }

  private presenceLock(tabId: string): string {
    return `${this.options.name}:tab:${tabId}`;
  }

  private say(message: DistributiveOmit<TabMessage, 'from'>): void {
    if (this.stopped && message.kind !== 'leave') return;
    this.options.channel.postMessage({ ...message, from: this.options.tabId });
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function wireState(state: StreamState): WireState {
  if (state.status !== 'closed' || !state.error)
    return state.status === 'closed' ? { status: 'closed' } : state;
  const { code, status, message } = state.error;
  return { status: 'closed', error: { code, status, message } };
}

function stateOf(state: WireState): StreamState {
  if (state.status !== 'closed' || !state.error) return state as StreamState;
  const { code, status, message } = state.error;
  return { status: 'closed', error: new StreamError(code, status, message) };
}
