import { EventStream, type StreamOptions, type StreamState } from './event-stream.js';
import type { Environment } from './environment.js';
import type { Feed, FeedListener } from './feed.js';
import { StreamError, topicsNamedBy } from './stream-error.js';
import { isTabMessage, PROTOCOL, type SharedState, type TabMessage, type WireError } from './tab-message.js';

/** The parts of BroadcastChannel and LockManager a group uses; tests pass their own. */
export interface Channel {
  postMessage(message: unknown): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  close(): void;
}
export type Locks = Pick<LockManager, 'request' | 'query'>;

export interface TabGroupOptions {
  /** Tabs with the same name share one stream: the stream's URL and its user. */
  readonly name: string;
  readonly tabId: string;
  readonly stream: StreamOptions;
  readonly locks: Locks;
  readonly channel: (name: string) => Channel;
  readonly env: Environment;
}

/** All topics, as a refusal's record of what it refused. */
const ALL = '*';

/**
 * The tabs of an origin that share one stream: those of one user, for one URL. Each tab asks for
 * the group's Web Lock; the one that holds it (the leader) runs the stream for the union of every
 * tab's topics and posts each block, with the last id after it, on a BroadcastChannel; the others
 * listen. When the leader tab closes (the browser releases its lock), freezes (it lets go) or falls
 * silent (suspended without a word: no message for two of its heartbeat intervals, and another tab
 * steals the lock), the next tab takes over from the last id it heard, so no tab misses an event;
 * what a tab has already handed over is dropped by its `DeliveredPositions`. A follower takes
 * messages only from the leader it accepted, of its own user; a leader sends another user's tab away
 * to stream alone. A refusal ends only the tabs it concerns.
 */
export class TabGroup implements Feed {
  /** Every tab of the group that said it is here, with the topics it wants; this tab included. */
  readonly #members = new Map<string, readonly string[] | undefined>();
  /** What the gateway refused to this group's leader, by topic: a tab asking for one is told at once. */
  readonly #refused = new Map<string, WireError>();
  #channel: Channel | undefined;
  #lastId: string | undefined;
  /** The position the application gave, until a running group either honours it or resets it. */
  #ownLastId: string | undefined;
  #stream: EventStream | undefined;
  /** The tab this one takes messages from: the leader that welcomed it, or itself. */
  #leaderId: string | undefined;
  /** How often the leader says it is alive. */
  #every: number;
  #watchdog: unknown;
  #pinger: unknown;
  #lockRequest: AbortController | undefined;
  #releaseLeadership: (() => void) | undefined;
  #releasePresence: (() => void) | undefined;
  #state: StreamState = { status: 'connecting' };
  #away = false;
  #stopped = false;

  readonly #options: TabGroupOptions;
  readonly #listener: FeedListener;

  constructor(options: TabGroupOptions, listener: FeedListener) {
    this.#options = options;
    this.#listener = listener;
    this.#lastId = this.#ownLastId = options.stream.lastEventId;
    this.#every = options.stream.heartbeatMs;
    this.#members.set(options.tabId, options.stream.topics);
  }

  get lastEventId(): string | undefined {
    return this.#lastId;
  }

  get #leader(): boolean {
    return this.#stream !== undefined;
  }

  get #topics(): readonly string[] | undefined {
    return this.#options.stream.topics;
  }

  start(): void {
    const channel = (this.#channel = this.#options.channel(this.#options.name));
    channel.onmessage = (event) => {
      if (channel === this.#channel && isTabMessage(event.data)) this.heard(event.data);
    };
    // Held while the tab is here: the leader counts the tabs still here by these locks. The tab
    // says it is here only once it holds it, or the leader could count it gone at once.
    void this.#options.locks.request(this.#presenceLock(this.#options.tabId), () => {
      if (this.#stopped || this.#away || channel !== this.#channel) return;
      return new Promise<void>((release) => {
        this.#releasePresence = release;
        this.#join();
        this.#watch();
        this.#campaign(false);
      });
    });
  }

  /** This tab leaves the group: another one takes the stream over. */
  stop(): void {
    if (!this.#stopped) this.#end({ status: 'closed' });
  }

  /** The page goes into the back-forward cache: no lock, channel or stream may keep it out. */
  pause(): void {
    if (this.#stopped || this.#away) return;
    this.#leave();
    this.#away = true;
  }

  /** The page is back from the back-forward cache: it joins again, from the last id it heard. */
  resume(): void {
    if (this.#stopped || !this.#away) return;
    this.#away = false;
    this.#ownLastId = this.#lastId;
    this.start();
  }

  /** The tab is about to be frozen: let another tab hold the stream, and stay in the group. */
  freeze(): void {
    this.#stepDown();
  }

  thaw(): void {
    if (!this.#stopped && !this.#away && !this.#leader && !this.#lockRequest) this.#campaign(false);
  }

  /** The network is back or the tab is shown: retry now, and see whether the leader still speaks. */
  wake(): void {
    this.#stream?.wake();
  }

  /** Queues for the leader lock, or takes it from a leader gone silent; holds it until it steps down. */
  #campaign(steal: boolean): void {
    const request = new AbortController();
    this.#lockRequest = request;
    this.#options.locks
      .request(`${this.#options.name}:leader`, steal ? { steal } : { signal: request.signal }, () => {
        if (this.#stopped || request !== this.#lockRequest) return;
        return new Promise<void>((release) => {
          this.#releaseLeadership = release;
          this.#lead();
        });
      })
      .catch(() => {
        // Aborted by stepDown, or stolen from this tab while it was suspended: then queue again,
        // and ask who leads now (what the new leader said meanwhile may not have reached this tab).
        if (request !== this.#lockRequest || this.#stopped) return;
        this.#stepDown();
        this.#campaign(false);
        this.#join();
      });
  }

  #stepDown(): void {
    this.#lockRequest?.abort();
    this.#lockRequest = undefined;
    const stream = this.#stream;
    this.#stream = undefined;
    if (this.#leaderId === this.#options.tabId) this.#leaderId = undefined;
    this.#options.env.clearTimeout(this.#pinger);
    stream?.stop();
    this.#releaseLeadership?.();
    this.#releaseLeadership = undefined;
    this.#watch();
  }

  #leave(): void {
    this.#say({ kind: 'leave' });
    this.#stepDown();
    this.#options.env.clearTimeout(this.#watchdog);
    this.#releasePresence?.();
    this.#releasePresence = undefined;
    this.#channel?.close();
    this.#channel = undefined;
    this.#leaderId = undefined;
  }

  #lead(): void {
    this.#leaderId = this.#options.tabId;
    this.#options.env.clearTimeout(this.#watchdog);
    this.#ownLastId = undefined;
    const stream: EventStream = new EventStream(
      { ...this.#options.stream, topics: this.#union(), lastEventId: this.#lastId },
      {
        block: (block, lastId) => {
          if (stream !== this.#stream) return;
          this.#lastId = lastId;
          this.#say({ kind: 'block', block, lastId });
          this.#listener.block(block);
        },
        position: (lastId) => {
          if (stream !== this.#stream) return;
          this.#lastId = lastId;
          this.#say({ kind: 'position', lastId });
          void this.#pruneMembers();
        },
        state: (state) => {
          if (stream === this.#stream) this.#streamState(state);
        },
        error: (error, topicChange) => {
          if (stream === this.#stream) this.#streamError(error, topicChange);
        },
      },
      this.#options.env,
    );
    this.#stream = stream;
    this.#say({ kind: 'lead', user: this.#options.stream.user, every: this.#every });
    this.#ping();
    stream.start();
    void this.#pruneMembers();
  }

  #streamState(state: StreamState): void {
    if (state.status === 'closed' && state.error) return this.#refusedStream(state.error);
    // Signed out, or closed for good: this tab only. Another tab takes over with its own token.
    if (state.status === 'signed-out' || state.status === 'closed') return this.#end(state);
    this.#state = state;
    this.#say({ kind: 'state', state, tabs: this.#members.size });
    this.#listener.state(state, this.#sharing());
  }

  /**
   * The gateway refused the stream with a 400, 401 or 403. When it names topics only other tabs
   * asked for, those tabs are ended and the stream goes on without them; otherwise this tab ends.
   */
  #refusedStream(error: StreamError): void {
    const others = this.#union()?.filter((topic) => !this.#topics?.includes(topic)) ?? [];
    const named = error.code === 'unauthorized' ? [] : topicsNamedBy(error, others);
    if (named.length === 0) return this.#end({ status: 'closed', error });
    this.#stream = undefined;
    this.#refuse(named, error);
    this.#lead();
  }

  /** A topic change was refused, or a rotation, or a token: the stream goes on. */
  #streamError(error: StreamError, topicChange?: { topics: readonly string[] | undefined }): void {
    if (!topicChange) {
      this.#say({ kind: 'error', error: wireError(error), fatal: false });
      return this.#listener.error(error);
    }
    const current = this.#stream?.streaming;
    const added = topicChange.topics?.filter((topic) => !current?.includes(topic)) ?? [ALL];
    const named = topicsNamedBy(error, added);
    this.#refuse(named.length > 0 ? named : added, error);
  }

  /** Ends the tabs that asked for these topics, and keeps them out of the stream from now on. */
  #refuse(topics: readonly string[], error: StreamError): void {
    for (const topic of topics) this.#refused.set(topic, wireError(error));
    for (const [tab, wanted] of this.#members) {
      if (tab !== this.#options.tabId && this.#refusal(wanted)) this.#refuseTab(tab);
    }
    this.#membersChanged();
  }

  #refusal(wanted: readonly string[] | undefined): WireError | undefined {
    return (wanted ?? [ALL]).map((topic) => this.#refused.get(topic)).find(Boolean);
  }

  #refuseTab(tab: string): void {
    const error = this.#refusal(this.#members.get(tab));
    this.#members.delete(tab);
    if (error) this.#say({ kind: 'error', to: tab, error, fatal: true });
  }

  /** This tab is done: its status says why, and another tab may take the stream over. */
  #end(state: StreamState): void {
    this.#stopped = true;
    this.#leave();
    this.#setOwnState(state);
  }

  private heard(message: TabMessage): void {
    if (this.#stopped || message.from === this.#options.tabId) return;
    const fromLeader = message.from === this.#leaderId;
    if (fromLeader) this.#watch();
    switch (message.kind) {
      case 'join':
        return this.#joined(message.from, message.topics, message.user);
      case 'leave':
        this.#members.delete(message.from);
        if (this.#leader) this.#membersChanged();
        return;
      case 'lead':
      case 'welcome':
        if (message.kind === 'welcome' && message.to !== this.#options.tabId) return;
        return this.#led(message);
      case 'reject':
        if (message.to === this.#options.tabId) this.#alone();
        return;
      case 'alive':
        // A tab that lost track of the leader (it was suspended) asks to be welcomed again.
        if (!fromLeader && this.#leaderId === undefined) this.#join();
        return;
      case 'block':
        if (!fromLeader) return;
        this.#lastId = message.lastId;
        this.#listener.block(message.block);
        return;
      case 'position':
        if (fromLeader) this.#lastId = message.lastId;
        return;
      case 'state':
        if (!fromLeader) return;
        this.#state = message.state;
        this.#listener.state(this.#state, { tabs: message.tabs, leader: false });
        return;
      case 'error': {
        if (!fromLeader || (message.to !== undefined && message.to !== this.#options.tabId)) return;
        const { code, status, message: text } = message.error;
        const error = new StreamError(code, status, text);
        return message.fatal ? this.#end({ status: 'closed', error }) : this.#listener.error(error);
      }
    }
  }

  /** A tab is here. The leader takes it in if it is of the same user, and tells it so. */
  #joined(tab: string, topics: readonly string[] | undefined, user: string | undefined): void {
    if (!this.#leader) {
      // Kept for when this tab leads: the stream then starts with every topic the group reads.
      if (user === this.#options.stream.user) this.#members.set(tab, topics);
      return;
    }
    if (user !== this.#options.stream.user) return this.#say({ kind: 'reject', to: tab });
    this.#members.set(tab, topics);
    this.#say({
      kind: 'welcome',
      to: tab,
      user: this.#options.stream.user,
      every: this.#every,
      lastId: this.#lastId,
      state: this.#state as SharedState,
      tabs: this.#members.size,
    });
    if (this.#refusal(topics)) this.#refuseTab(tab);
    this.#membersChanged();
  }

  /** A leader spoke to this tab: follow it if it streams for the same user, else stream alone. */
  #led(message: Extract<TabMessage, { kind: 'lead' | 'welcome' }>): void {
    if (message.user !== this.#options.stream.user) return this.#alone();
    if (this.#leader) {
      // Another tab leads now (this one was silent): queue again behind it.
      this.#stepDown();
      this.#campaign(false);
    }
    this.#leaderId = message.from;
    this.#every = message.every;
    this.#watch();
    if (message.kind === 'lead') {
      // The new leader learns who is here, and what each tab wants, from the answers.
      return this.#join();
    }
    // A running group cannot resume from this tab's own position: the application refetches.
    if (this.#ownLastId !== undefined && message.lastId !== this.#ownLastId) {
      this.#listener.block({
        type: 'reset',
        id: undefined,
        data: JSON.stringify({
          reason: 'joined-group',
          message:
            'This tab joined the stream of other tabs, which is past its last event id; refetch your state',
        }),
      });
    }
    this.#ownLastId = undefined;
    if (message.lastId !== undefined) this.#lastId = message.lastId;
    this.#state = message.state;
    this.#listener.state(message.state, { tabs: message.tabs, leader: false });
  }

  /** Another user's tabs share this group's name (an application's shareKey): stream alone. */
  #alone(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#leave();
    this.#listener.alone?.(this.#lastId);
  }

  /** A follower's watch over the leader: silence for two of its intervals, and it takes over. */
  #watch(): void {
    const { env } = this.#options;
    env.clearTimeout(this.#watchdog);
    if (this.#leader || this.#stopped || this.#away || !this.#channel) return;
    this.#watchdog = env.setTimeout(() => this.#takeOver(), 2 * this.#every);
  }

  #takeOver(): void {
    // One tab steals the lock: the first to get this one; the others hear the new leader.
    void this.#options.locks.request(`${this.#options.name}:takeover`, { ifAvailable: true }, (lock) => {
      if (!lock || this.#leader || this.#stopped || this.#away) return;
      this.#lockRequest?.abort();
      this.#campaign(true);
    });
  }

  #ping(): void {
    this.#options.env.clearTimeout(this.#pinger);
    this.#pinger = this.#options.env.setTimeout(() => {
      if (!this.#leader) return;
      this.#say({ kind: 'alive' });
      this.#ping();
    }, this.#every);
  }

  #membersChanged(): void {
    this.#stream?.setTopics(this.#union());
    if (this.#leader) this.#streamState(this.#state);
  }

  /** Forgets tabs that went away without a word (crashed, killed): their presence lock is free. */
  async #pruneMembers(): Promise<void> {
    // Only tabs known before the query: one that joins meanwhile holds a lock the answer predates.
    const known = [...this.#members.keys()];
    const { held = [] } = await this.#options.locks.query();
    const here = new Set(held.map((lock) => lock.name));
    const gone = known.filter((tab) => tab !== this.#options.tabId && !here.has(this.#presenceLock(tab)));
    gone.forEach((tab) => this.#members.delete(tab));
    if (gone.length > 0 && this.#leader) this.#membersChanged();
  }

  /** What the stream must carry: every topic some tab wants (undefined when one wants all). */
  #union(): readonly string[] | undefined {
    const topics = new Set<string>();
    for (const wanted of this.#members.values()) {
      if (wanted === undefined) return undefined;
      wanted.forEach((topic) => topics.add(topic));
    }
    return [...topics].sort();
  }

  #setOwnState(state: StreamState): void {
    this.#state = state;
    this.#listener.state(state, this.#sharing());
  }

  #sharing(): { tabs: number; leader: boolean } {
    return { tabs: this.#leader ? this.#members.size : 1, leader: this.#leader };
  }

  #join(): void {
    this.#say({ kind: 'join', topics: this.#topics, user: this.#options.stream.user });
  }

  #presenceLock(tabId: string): string {
    return `${this.#options.name}:tab:${tabId}`;
  }

  #say(message: DistributiveOmit<TabMessage, 'from' | 'v'>): void {
    this.#channel?.postMessage({ ...message, v: PROTOCOL, from: this.#options.tabId });
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function wireError({ code, status, message }: StreamError): WireError {
  return { code, status, message };
}
