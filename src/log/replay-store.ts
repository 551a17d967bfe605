import { broadcastKey, keyCount } from './audience.js';
import { Fifo } from './fifo.js';
import type { GatewayEvent } from './gateway-event.js';
import { LogPosition } from './log-position.js';
import {
  contentBytes,
  ENTRY_BYTES,
  eventBytes,
  KEY_LIST_BYTES,
  SLOT_BYTES,
  stringBytes,
  type Entry,
  type KeyList,
} from './replay-entry.js';

export interface ReplayLimits {
  /** Events whose record timestamp is older than this are dropped. */
  readonly windowMs: number;
  /** Heap the store may take, everything counted: events, strings, indexes. */
  readonly maxBytes: number;
  /** What one user's events may take: past it, that user's oldest go, nobody else's. */
  readonly maxBytesPerUser: number;
  /** The same for one topic's broadcasts. */
  readonly maxBytesPerBroadcastTopic: number;
}

export type ReplayResult =
  { readonly ok: true; readonly events: GatewayEvent[] } | { readonly ok: false; readonly reason: 'too-old' };

/**
 * The recent events of this instance for resumes. Indexed three ways, so a resume costs time in
 * proportion to what it returns: by audience key (a user, a topic's broadcasts) in processing
 * order; by partition in offset order, to find where a resume point starts; and all of them in
 * processing order, for eviction. Bounded by time and by the heap it takes, with a cap per key so
 * that one user, or one topic's broadcasts, cannot evict everyone else's history. It also knows,
 * per partition and per capped key, from which offset on it holds everything: a resume from
 * before that cannot be served completely.
 */
export class ReplayStore {
  private order = new Fifo<Entry>();
  private readonly byPartition = new Map<string, Map<number, Fifo<Entry>>>();
  private readonly byKey = new Map<string, KeyList>();
  /** Per partition, the first offset from which every event is held. */
  private readonly complete = LogPosition.empty();
  /** Per key cut by its cap, the first offset from which its events are held. */
  private readonly keyComplete = new Map<string, LogPosition>();
  private seq = 0;
  private heapBytes = 0;
  private held = 0;
  /** The partition list appended to last: a batch's events are all of one partition. */
  private lastList: { topic: string; partition: number; list: Fifo<Entry> } | undefined;

  constructor(private readonly limits: ReplayLimits) {}

  /** Events held (an event for several users counts once). */
  get size(): number {
    return this.held;
  }

  /** The heap the store takes, by its model. */
  get bytes(): number {
    return this.heapBytes;
  }

  /** Declares the store complete for a partition from `offset` on (where consumption starts). */
  completeFrom(topic: string, partition: number, offset: number): void {
    const current = this.complete.get(topic, partition);
    if (current === undefined || offset > current) this.complete.set(topic, partition, offset);
  }

  /**
   * From which offset of a partition the store holds every event filed under `keys`: where a
   * resume can start from it; undefined if it does not know the partition.
   */
  completeFor(keys: readonly string[], topic: string, partition: number): number | undefined {
    let first = this.complete.get(topic, partition);
    if (first === undefined) return undefined;
    for (const key of keys) {
      const cut = this.keyComplete.get(key)?.get(topic, partition);
      if (cut !== undefined && cut > first) first = cut;
    }
    return first;
  }

  /** Files `event` under its audience's keys (see audienceKeys). */
  append(event: GatewayEvent, now = Date.now()): void {
    const bytes = eventBytes(event);
    const { audience } = event;
    const keys = keyCount(audience);
    const entry: Entry = {
      event,
      topic: event.topic,
      partition: event.partition,
      offset: event.offset,
      seq: this.seq++,
      at: Math.min(event.timestamp, now),
      bytes,
      charge: keys > 1 ? contentBytes(event) : bytes,
      holders: keys,
    };
    this.order.push(entry);
    let last = this.lastList;
    if (last?.topic !== event.topic || last.partition !== event.partition) {
      last = this.lastList = {
        topic: event.topic,
        partition: event.partition,
        list: this.partitionList(event.topic, event.partition),
      };
    }
    last.list.push(entry);
    this.heapBytes += ENTRY_BYTES + 2 * SLOT_BYTES + bytes + keys * SLOT_BYTES;
    this.held++;
    // Spelt out per kind: this runs for every record, and a list of keys would be built each time.
    if (audience.kind === 'user') this.file(audience.userId, entry, false);
    else if (audience.kind === 'users')
      for (const userId of audience.userIds) this.file(userId, entry, false);
    else this.file(broadcastKey(event.topic), entry, true);
    this.evict(now);
  }

  /** Drops what fell out of the window or the budget; also called by a timer, as time passes. */
  evict(now = Date.now()): void {
    const oldest = now - this.limits.windowMs;
    for (let head = this.order.peek(); head; head = this.order.peek()) {
      if (head.at >= oldest && this.heapBytes <= this.limits.maxBytes) return;
      this.order.shift();
      this.heapBytes -= ENTRY_BYTES + 2 * SLOT_BYTES;
      // Every list holds its entries in processing order, so the oldest entry heads each of them.
      this.partitionList(head.topic, head.partition).shift();
      this.completeFrom(head.topic, head.partition, head.offset + 1);
      const audience = head.event?.audience;
      if (audience?.kind === 'user') this.unfile(audience.userId, head);
      else if (audience?.kind === 'users') for (const userId of audience.userIds) this.unfile(userId, head);
      else if (audience) this.unfile(broadcastKey(head.topic), head);
    }
  }

  private file(key: string, entry: Entry, broadcast: boolean): void {
    const list = this.keyList(key, broadcast);
    list.entries.push(entry);
    list.bytes += entry.charge;
    while (list.bytes > list.cap && list.entries.size > 1) this.dropOldestOf(key, list);
  }

  /** An evicted entry leaves the list of `key`, if the key's cap did not take it out before. */
  private unfile(key: string, entry: Entry): void {
    const list = this.byKey.get(key);
    if (list?.entries.peek() !== entry) return;
    list.entries.shift();
    this.release(key, list, entry);
  }

  /**
   * The events filed under `keys` on `topics` at or after `from`, per partition, in processing
   * order. A partition whose resume point is before what the store holds makes the whole replay
   * impossible: a partial replay must never pass for a complete one.
   */
  replay(keys: readonly string[], topics: ReadonlySet<string>, from: LogPosition): ReplayResult {
    let startSeq = Infinity;
    for (const [topic, partition, offset] of from.entries()) {
      if (!topics.has(topic)) continue;
      const first = this.complete.get(topic, partition);
      if (first === undefined || offset < first) return { ok: false, reason: 'too-old' };
      for (const key of keys) {
        const keyFirst = this.keyComplete.get(key)?.get(topic, partition);
        if (keyFirst !== undefined && offset < keyFirst) return { ok: false, reason: 'too-old' };
      }
      const list = this.byPartition.get(topic)?.get(partition);
      if (!list) continue;
      const at = list.lowerBound((entry) => entry.offset >= offset);
      const entry = list.at(at);
      if (entry && entry.seq < startSeq) startSeq = entry.seq;
    }
    const found: Entry[] = [];
    if (startSeq === Infinity) return { ok: true, events: [] };
    for (const key of keys) {
      const list = this.byKey.get(key);
      if (!list) continue;
      for (let i = list.entries.lowerBound((entry) => entry.seq >= startSeq); i < list.entries.size; i++) {
        const entry = list.entries.at(i)!;
        const event = entry.event!;
        const start = from.get(event.topic, event.partition);
        if (topics.has(event.topic) && start !== undefined && entry.offset >= start) found.push(entry);
      }
    }
    if (keys.length > 1) found.sort((a, b) => a.seq - b.seq);
    return { ok: true, events: found.map((entry) => entry.event!) };
  }

  /**
   * Forgets a partition's events: its log changed under the gateway (a topic deleted and
   * recreated), so their offsets mean nothing any more. Rare, so a full pass is fine.
   */
  forgetPartition(topic: string, partition: number, completeFrom: number): void {
    this.removePartitions(topic, new Set([partition]));
    this.complete.set(topic, partition, completeFrom);
  }

  /**
   * Drops partitions of a topic altogether, in one pass: another instance owns them now
   * (partition-owner mode). A resume from them is no longer this store's to serve.
   */
  dropPartitions(topic: string, partitions: ReadonlySet<number>): void {
    this.removePartitions(topic, partitions);
    for (const partition of partitions) this.complete.delete(topic, partition);
  }

  private removePartitions(topic: string, partitions: ReadonlySet<number>): void {
    const topicLists = this.byPartition.get(topic);
    for (const partition of partitions) topicLists?.delete(partition);
    this.lastList = undefined;
    const removed = (entry: Entry): boolean => entry.topic === topic && partitions.has(entry.partition);
    for (const [key, list] of [...this.byKey]) {
      const kept = new Fifo<Entry>();
      for (const entry of list.entries) {
        if (removed(entry)) this.release(key, list, entry, false);
        else kept.push(entry);
      }
      if (kept.size === 0) this.deleteList(key);
      else this.byKey.set(key, { ...list, entries: kept });
    }
    const order = new Fifo<Entry>();
    for (const entry of this.order) {
      if (removed(entry)) this.heapBytes -= ENTRY_BYTES + 2 * SLOT_BYTES;
      else order.push(entry);
    }
    this.order = order;
    for (const position of this.keyComplete.values()) {
      for (const partition of partitions) position.delete(topic, partition);
    }
  }

  private dropOldestOf(key: string, list: KeyList): void {
    const entry = list.entries.shift()!;
    let cut = this.keyComplete.get(key);
    if (!cut) this.keyComplete.set(key, (cut = LogPosition.empty()));
    const current = cut.get(entry.topic, entry.partition);
    if (current === undefined || entry.offset + 1 > current)
      cut.set(entry.topic, entry.partition, entry.offset + 1);
    this.release(key, list, entry);
  }

  /**
   * One key let go of `entry` (already taken off its list): its bytes leave the key's budget, and
   * the heap once nobody holds it. An emptied list goes unless `dropEmpty` is false.
   */
  private release(key: string, list: KeyList, entry: Entry, dropEmpty = true): void {
    list.bytes -= entry.charge;
    this.heapBytes -= SLOT_BYTES;
    if (--entry.holders === 0) {
      this.heapBytes -= entry.bytes;
      this.held--;
      entry.event = undefined;
    }
    if (dropEmpty && list.entries.size === 0) this.deleteList(key);
  }

  private deleteList(key: string): void {
    this.byKey.delete(key);
    this.heapBytes -= KEY_LIST_BYTES + stringBytes(key);
    // Whatever the cap cut off is older than what was evicted after it, so `complete` covers it.
    this.keyComplete.delete(key);
  }

  private keyList(key: string, broadcast: boolean): KeyList {
    let list = this.byKey.get(key);
    if (!list) {
      list = {
        entries: new Fifo(),
        bytes: 0,
        cap: broadcast ? this.limits.maxBytesPerBroadcastTopic : this.limits.maxBytesPerUser,
      };
      this.byKey.set(key, list);
      this.heapBytes += KEY_LIST_BYTES + stringBytes(key);
    }
    return list;
  }

  private partitionList(topic: string, partition: number): Fifo<Entry> {
    let partitions = this.byPartition.get(topic);
    if (!partitions) this.byPartition.set(topic, (partitions = new Map<number, Fifo<Entry>>()));
    let list = partitions.get(partition);
    if (!list) partitions.set(partition, (list = new Fifo()));
    return list;
  }
}
