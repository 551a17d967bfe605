import { Fifo } from './fifo.js';
import type { GatewayEvent } from './gateway-event.js';

export interface ReplayLimits {
  /** Events whose record timestamp is older than this are dropped. */
  readonly windowMs: number;
  /** Approximate memory the buffered events may take. */
  readonly maxBytes: number;
}

/** An event in the buffer, with its place in processing order. */
interface Buffered {
  readonly event: GatewayEvent;
  readonly seq: number;
  readonly bytes: number;
  /** The record's timestamp, or the time it arrived if the producer's clock is ahead. */
  readonly at: number;
}

export type ReplayResult =
  { readonly ok: true; readonly events: GatewayEvent[] } | { readonly ok: false; readonly reason: 'too-old' };

/** Fixed per-event cost on top of its strings: the objects, the index entries. */
const EVENT_OVERHEAD_BYTES = 160;
const RECIPIENT_OVERHEAD_BYTES = 16;

/**
 * The recent events of this instance, in processing order, indexed by user and by broadcast topic
 * so a resume reads only the events that can concern it. It also knows, per partition, from which
 * offset on it holds everything: a resume point before that cannot be served completely.
 */
export class ReplayBuffer {
  private readonly all = new Fifo<Buffered>();
  private readonly byUser = new Map<string, Fifo<Buffered>>();
  private readonly broadcasts = new Map<string, Fifo<Buffered>>();
  private readonly completeFrom = new Map<string, bigint[]>();
  private seq = 0;
  private bytes = 0;

  constructor(private readonly limits: ReplayLimits) {}

  get size(): number {
    return this.all.size;
  }

  get byteSize(): number {
    return this.bytes;
  }

  /** Declares the buffer complete for a partition from `offset` on (where consumption started). */
  completeFromOffset(topic: string, partition: number, offset: bigint): void {
    let offsets = this.completeFrom.get(topic);
    if (!offsets) this.completeFrom.set(topic, (offsets = []));
    const current = offsets[partition];
    if (current === undefined || offset > current) offsets[partition] = offset;
  }

  /** The first offset of a partition the buffer can replay from, if it knows the partition. */
  firstReplayableOffset(topic: string, partition: number): bigint | undefined {
    return this.completeFrom.get(topic)?.[partition];
  }

  append(event: GatewayEvent, now = Date.now()): void {
    // A record stamped in the future would otherwise hold back the eviction of all after it.
    const entry: Buffered = {
      event,
      seq: this.seq++,
      bytes: sizeOf(event),
      at: Math.min(event.timestamp, now),
    };
    this.all.push(entry);
    this.bytes += entry.bytes;
    for (const list of this.listsOf(event, true)) list.push(entry);
    this.evict(now);
  }

  /** Drops what fell out of the window; also called by a timer, as time passes without events. */
  evict(now = Date.now()): void {
    const oldest = now - this.limits.windowMs;
    for (let head = this.all.peek(); head; head = this.all.peek()) {
      if (head.at >= oldest && this.bytes <= this.limits.maxBytes) return;
      this.all.shift();
      this.bytes -= head.bytes;
      // Lists hold entries in processing order too, so the evicted entry heads each of its lists.
      for (const list of this.listsOf(head.event, false)) list.shift();
      this.completeFromOffset(head.event.topic, head.event.partition, head.event.offset + 1n);
    }
  }

  /**
   * The buffered events for `userId` on `topics` at or after `from` (per topic-partition), in
   * processing order. A partition whose resume point is before what the buffer holds makes the
   * whole replay impossible: a partial replay must never pass for a complete one.
   */
  replay(
    userId: string,
    topics: ReadonlySet<string>,
    from: ReadonlyMap<string, ReadonlyMap<number, bigint>>,
  ): ReplayResult {
    for (const [topic, partitions] of from) {
      for (const [partition, offset] of partitions) {
        const first = this.firstReplayableOffset(topic, partition);
        if (first === undefined || offset < first) return { ok: false, reason: 'too-old' };
      }
    }
    const wanted = (entry: Buffered): boolean => {
      const { topic, partition, offset } = entry.event;
      const start = from.get(topic)?.get(partition);
      return topics.has(topic) && start !== undefined && offset >= start;
    };
    const found: Buffered[] = [];
    for (const entry of this.byUser.get(userId) ?? []) if (wanted(entry)) found.push(entry);
    for (const topic of topics)
      for (const entry of this.broadcasts.get(topic) ?? []) if (wanted(entry)) found.push(entry);
    return { ok: true, events: found.sort((a, b) => a.seq - b.seq).map((entry) => entry.event) };
  }

  private *listsOf(event: GatewayEvent, create: boolean): Iterable<Fifo<Buffered>> {
    const { audience } = event;
    switch (audience.kind) {
      case 'broadcast':
        yield* this.list(this.broadcasts, event.topic, create);
        return;
      case 'user':
        yield* this.list(this.byUser, audience.userId, create);
        return;
      case 'users':
        for (const userId of audience.userIds) yield* this.list(this.byUser, userId, create);
        return;
    }
  }

  /** The list under `key`, created on append and removed on eviction once it is empty. */
  private *list(lists: Map<string, Fifo<Buffered>>, key: string, create: boolean): Iterable<Fifo<Buffered>> {
    let list = lists.get(key);
    if (!list && create) lists.set(key, (list = new Fifo()));
    if (!list) return;
    yield list;
    if (!create && list.size === 0) lists.delete(key);
  }
}

function sizeOf(event: GatewayEvent): number {
  const recipients = event.audience.kind === 'users' ? event.audience.userIds.length : 1;
  // Strings count two bytes a character, as V8 may store them.
  return (
    EVENT_OVERHEAD_BYTES + 2 * (event.data.length + event.type.length) + RECIPIENT_OVERHEAD_BYTES * recipients
  );
}
