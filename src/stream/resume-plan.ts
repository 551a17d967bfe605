import { JOURNAL_MARK, parseJournalCursor, positionOf, type JournalCursor } from '../log/journal-id.js';
import { eventPositionOf, LogPosition, type RecordPosition } from '../log/log-position.js';
import type { LogReader } from '../log/partition-log.js';
import type { ResumeScope } from '../ownership/ownership.js';
import type { ResetReason } from '../sse/sse-frame.js';

/** Where a stream request asks to resume, as the controller read it. */
export type ResumeFrom =
  /** No id: the stream starts at the instance's current position. */
  | { readonly kind: 'live' }
  /** An id this gateway could not have issued. */
  | { readonly kind: 'malformed' }
  | { readonly kind: 'cursor'; readonly cursor: LogPosition }
  /** A compact id: a checkpoint of the positions journal, then the event's own position. */
  | { readonly kind: 'journal'; readonly cursor: JournalCursor; readonly event: RecordPosition | undefined };

/** Reads the resume point of `Last-Event-ID` (or `?lastEventId=`), if one was sent. */
export function resumeFrom(lastEventId: string | undefined): ResumeFrom {
  if (lastEventId === undefined) return { kind: 'live' };
  const separator = lastEventId.indexOf(';');
  const cursorText = separator === -1 ? lastEventId : lastEventId.slice(separator + 1);
  if (cursorText.startsWith(JOURNAL_MARK)) {
    const cursor = parseJournalCursor(cursorText);
    const event = separator === -1 ? undefined : eventPositionOf(lastEventId.slice(0, separator));
    if (!cursor || (separator !== -1 && !event)) return { kind: 'malformed' };
    return { kind: 'journal', cursor, event };
  }
  const cursor = LogPosition.parse(lastEventId);
  return cursor ? { kind: 'cursor', cursor } : { kind: 'malformed' };
}

/**
 * A compact id naming a checkpoint this instance does not hold (older than memory keeps, or written
 * a moment ago by another instance): read it from the positions topic before the plan is made.
 * Undefined when nothing needs reading.
 */
export function checkpointLookUp(from: ResumeFrom, log: LogReader): Promise<void> | undefined {
  if (from.kind !== 'journal' || log.checkpoint(from.cursor.checkpoint)) return undefined;
  return log.lookUpCheckpoint(from.cursor.checkpoint);
}

/**
 * Where the client stood by its id: the id's own cursor, or the checkpoint a compact id names with
 * what the id adds; undefined without an id, for a malformed one, or a checkpoint not known here.
 */
export function namedPosition(from: ResumeFrom, log: LogReader): LogPosition | undefined {
  if (from.kind === 'cursor') return from.cursor;
  return from.kind === 'journal' ? journalPosition(from, log) : undefined;
}

/** The position a compact id names, from the checkpoint it names; undefined if that is not kept. */
function journalPosition(
  from: Extract<ResumeFrom, { kind: 'journal' }>,
  log: LogReader,
): LogPosition | undefined {
  const checkpoint = log.checkpoint(from.cursor.checkpoint);
  const position = checkpoint && positionOf(from.cursor, checkpoint);
  const { event } = from;
  if (position && event) {
    if (!position.hasTopic(event.topic)) return undefined;
    position.set(event.topic, event.partition, event.offset + 1);
  }
  return position;
}

export type ResumePlan =
  | { readonly kind: 'live' }
  /** Resume after what the client was given: `from` per partition (see StreamResume). */
  | { readonly kind: 'resume'; readonly from: LogPosition }
  /** The id cannot be resumed: the client refetches its state, the stream goes live. */
  | { readonly kind: 'reset'; readonly reason: ResetReason };

export interface ResumeContext {
  /** The stream's topics. */
  readonly topics: readonly string[];
  readonly configuredTopics: readonly string[];
  /** The slots of an id that concern the user (partition-owner mode drops the others). */
  readonly scope: ResumeScope;
  readonly log: LogReader;
}

/**
 * Decides where a stream resumes. Topics the id does not mention start live: the client never
 * read them, so it missed nothing there. A partition of a topic it does mention that its id does
 * not name was unknown to the instance that gave the id (added since): the client missed all of
 * it, from the start of what Kafka has. An id carries every partition its instance knew; slots
 * outside the scope say nothing about this user.
 */
export function planResume(from: ResumeFrom, context: ResumeContext): ResumePlan {
  if (from.kind === 'live') return from;
  if (from.kind === 'malformed') return { kind: 'reset', reason: 'malformed-id' };
  const { topics, configuredTopics, scope, log } = context;
  const cursor = namedPosition(from, log);
  // A checkpoint no longer kept (or from another cluster) names nothing this gateway can read from.
  if (!cursor) return { kind: 'reset', reason: 'beyond-horizon' };
  for (const topic of cursor.topics()) {
    if (!configuredTopics.includes(topic)) return { kind: 'reset', reason: 'unknown-position' };
  }
  const named = topics.filter((topic) => cursor.hasTopic(topic));
  const position = cursor.snapshot(named);
  for (const [topic, partition] of [...position.entries()]) {
    if (!scope(topic, partition)) position.delete(topic, partition);
    else if (!log.knows(topic, partition)) return { kind: 'reset', reason: 'unknown-position' };
  }
  for (const topic of named) {
    for (const partition of log.partitionsOf(topic)) {
      if (position.get(topic, partition) === undefined && scope(topic, partition))
        position.set(topic, partition, log.logStartOf(topic, partition) ?? 0);
    }
  }
  return { kind: 'resume', from: position };
}
