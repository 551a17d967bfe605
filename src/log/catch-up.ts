import { audienceKeys } from './audience.js';
import type { GatewayEvent } from './gateway-event.js';
import type { PartitionBatch } from './partition-batch.js';

/** Reads history from Kafka for the scans: the Kafka side implements it (kafka/history-reader.ts). */
export interface HistoryReader {
  /** Starts reading a partition at `offset`; its batches come back through `CatchUpScans.take`. */
  read(topic: string, partition: number, offset: number): void;
  /** Stops reading a partition. */
  stop(topic: string, partition: number): void;
}

/** What one stream's catch-up reads: its audience keys, and per partition the offsets [from, to). */
export interface CatchUpRequest {
  readonly keys: readonly string[];
  readonly ranges: readonly CatchUpRange[];
}

export interface CatchUpRange {
  readonly topic: string;
  readonly partition: number;
  readonly from: number;
  /** Where the replay store holds everything the stream needs: the stream takes it from there. */
  readonly to: number;
}

/** What a catching-up stream hears, in the order of each partition. */
export interface CatchUpListener {
  /** The stream's events of a partition up to `next` (exclusive), in offset order. */
  events(topic: string, partition: number, events: readonly GatewayEvent[], next: number): void;
  /** Every range was read: the replay store takes over. */
  caughtUp(): void;
  /** Kafka no longer has records the stream needs (retention, deleted records). */
  expired(): void;
}

export interface CatchUpCounters {
  scanStarted(): void;
  joined(): void;
  scanned(records: number): void;
  served(events: number): void;
}

/** One stream's part of a scan: a range of one partition. */
interface Reader {
  readonly catchUp: StreamCatchUp;
  readonly from: number;
  readonly to: number;
  collected: GatewayEvent[];
}

/** One pass over one partition, serving every stream that reads it from where the pass is. */
interface Scan {
  readonly topic: string;
  readonly partition: number;
  /** The next offset the pass reads. */
  position: number;
  readers: Reader[];
  /** Streams that need offsets the pass is already past: they wait for its next round. */
  waiting: Reader[];
  running: boolean;
}

class StreamCatchUp {
  remaining: number;
  done = false;

  constructor(
    readonly keys: ReadonlySet<string>,
    readonly listener: CatchUpListener,
    ranges: number,
  ) {
    this.remaining = ranges;
  }
}

/**
 * Catch-ups of streams whose resume point is older than what the replay store holds: the missing
 * records are read from Kafka, one pass per partition for every stream that needs it. A stream
 * that arrives while a pass runs joins it, and is served from its own position as the pass
 * reaches it: on this round if the pass has not gone past it yet, otherwise on the next, which
 * starts from the earliest position of those that waited. A reconnect storm, thousands of
 * streams resuming at about the same place, is one pass. At most `maxScans` partitions are read
 * at once; the others wait their turn.
 */
export class CatchUpScans {
  private reader: HistoryReader | undefined;
  private readonly scans = new Map<string, Scan>();
  private readonly queue: Scan[] = [];

  constructor(
    private readonly maxScans: number,
    private readonly counters: CatchUpCounters,
  ) {}

  /** The Kafka side's reader; until it is attached, no catch-up can start. */
  attach(reader: HistoryReader): void {
    this.reader = reader;
  }

  get available(): boolean {
    return this.reader !== undefined;
  }

  /** Records the running passes still have to read to serve everyone on them. */
  get lag(): number {
    let lag = 0;
    for (const scan of this.scans.values()) {
      if (scan.running) for (const reader of scan.readers) lag = Math.max(lag, reader.to - scan.position);
    }
    return lag;
  }

  /** Starts a stream's catch-up; the returned function cancels it (the stream went away). */
  start(request: CatchUpRequest, listener: CatchUpListener): () => void {
    const catchUp = new StreamCatchUp(new Set(request.keys), listener, request.ranges.length);
    for (const range of request.ranges) this.join(catchUp, range);
    if (request.ranges.length === 0) listener.caughtUp();
    return () => this.cancel(catchUp);
  }

  /** A batch the reader fetched. */
  take(batch: PartitionBatch<GatewayEvent>): void {
    const scan = this.scans.get(`${batch.topic}/${batch.partition}`);
    if (!scan?.running) return;
    // Kafka moved the read past records that no longer exist: those streams cannot be served.
    if (batch.fetchedOffset > scan.position) {
      for (const reader of scan.readers.filter((each) => each.from < batch.fetchedOffset)) {
        this.finish(scan, [reader]);
        reader.catchUp.done = true;
        reader.catchUp.listener.expired();
      }
    }
    this.counters.scanned(batch.next - Math.max(scan.position, batch.fetchedOffset));
    // A record costs its audience, not every stream on the pass: thousands of streams resuming
    // together made each record of a lap a loop over all of them.
    const byKey = readersByKey(scan.readers);
    for (const event of batch.records) {
      if (event.offset < scan.position) continue;
      for (const key of audienceKeys(event.topic, event.audience)) {
        for (const reader of byKey.get(key) ?? []) {
          const fits = event.offset >= reader.from && event.offset < reader.to;
          // An event whose users are listed twice still reaches a stream once.
          if (fits && reader.collected.at(-1) !== event) reader.collected.push(event);
        }
      }
    }
    scan.position = Math.max(scan.position, batch.next);
    const finished: Reader[] = [];
    for (const reader of scan.readers) {
      const reached = Math.min(scan.position, reader.to);
      if (reader.collected.length > 0 || reached >= reader.to) {
        const events = reader.collected;
        reader.collected = [];
        this.counters.served(events.length);
        if (!reader.catchUp.done) reader.catchUp.listener.events(scan.topic, scan.partition, events, reached);
      }
      if (reached >= reader.to) finished.push(reader);
    }
    this.finish(scan, finished);
    this.settle(scan);
  }

  private join(catchUp: StreamCatchUp, range: CatchUpRange): void {
    const key = `${range.topic}/${range.partition}`;
    const reader: Reader = { catchUp, from: range.from, to: range.to, collected: [] };
    let scan = this.scans.get(key);
    if (!scan) {
      scan = {
        topic: range.topic,
        partition: range.partition,
        position: range.from,
        readers: [],
        waiting: [],
        running: false,
      };
      this.scans.set(key, scan);
    }
    if (scan.running) {
      // Served as the pass reaches its position, on this round or the next.
      this.counters.joined();
      if (range.from >= scan.position) scan.readers.push(reader);
      else scan.waiting.push(reader);
    } else {
      scan.readers.push(reader);
      scan.position = Math.min(scan.position, range.from);
      if (!this.queue.includes(scan)) this.queue.push(scan);
      this.startScans();
    }
  }

  private startScans(): void {
    const reader = this.reader;
    if (!reader) return;
    let running = [...this.scans.values()].filter((scan) => scan.running).length;
    while (running < this.maxScans && this.queue.length > 0) {
      const scan = this.queue.shift()!;
      scan.running = true;
      running++;
      this.counters.scanStarted();
      reader.read(scan.topic, scan.partition, scan.position);
    }
  }

  /** Takes readers that have all they need off a pass, at once: thousands may end a lap together. */
  private finish(scan: Scan, finished: readonly Reader[]): void {
    if (finished.length === 0) return;
    const gone = new Set(finished);
    scan.readers = scan.readers.filter((each) => !gone.has(each));
    for (const { catchUp } of finished) {
      if (catchUp.done) continue;
      if (--catchUp.remaining === 0) {
        catchUp.done = true;
        catchUp.listener.caughtUp();
      }
    }
  }

  /**
   * A pass that served everyone on it goes round again for the streams that waited, from the
   * earliest of their positions; once nobody waits, it stops.
   */
  private settle(scan: Scan): void {
    if (scan.readers.length > 0) return;
    const waiting = scan.waiting;
    scan.waiting = [];
    if (waiting.length > 0) {
      scan.readers = waiting;
      scan.position = Math.min(...waiting.map((reader) => reader.from));
      if (scan.running) this.reader?.read(scan.topic, scan.partition, scan.position);
      return;
    }
    this.scans.delete(`${scan.topic}/${scan.partition}`);
    if (scan.running) {
      scan.running = false;
      this.reader?.stop(scan.topic, scan.partition);
    }
    this.startScans();
  }

  private cancel(catchUp: StreamCatchUp): void {
    catchUp.done = true;
    for (const scan of [...this.scans.values()]) {
      scan.readers = scan.readers.filter((reader) => reader.catchUp !== catchUp);
      scan.waiting = scan.waiting.filter((reader) => reader.catchUp !== catchUp);
      if (scan.readers.length === 0) {
        const queued = this.queue.indexOf(scan);
        if (queued !== -1) this.queue.splice(queued, 1);
        this.settle(scan);
      }
    }
  }
}

/** The readers of a pass by the audience keys they read. */
function readersByKey(readers: readonly Reader[]): Map<string, Reader[]> {
  const byKey = new Map<string, Reader[]>();
  for (const reader of readers) {
    for (const key of reader.catchUp.keys) {
      const list = byKey.get(key);
      if (list) list.push(reader);
      else byKey.set(key, [reader]);
    }
  }
  return byKey;
}
