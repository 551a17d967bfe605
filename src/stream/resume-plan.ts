import type { GatewayEvent } from '../log/gateway-event.js';
import { LogPosition } from '../log/log-position.js';
import type { LogReader } from '../log/partition-log.js';
import type { ResumeScope } from '../ownership/ownership.js';
import type { ResetReason } from '../sse/sse-frame.js';

/** Where a stream request asks to resume, as the controller read it. */
export type ResumeFrom =
  /** No id: the stream starts at the instance's current position. */
  | { readonly kind: 'live' }
  /** An id this gateway could not have issued. */
  | { readonly kind: 'malformed' }
  | { readonly kind: 'cursor'; readonly cursor: LogPosition };

/** Reads the resume point of `Last-Event-ID` (or `?lastEventId=`), if one was sent. */
export function resumeFrom(lastEventId: string | undefined): ResumeFrom {
  if (lastEventId === undefined) return { kind: 'live' };
  const cursor = LogPosition.parse(lastEventId);
  return cursor ? { kind: 'cursor', cursor } : { kind: 'malformed' };
}

export type ResumePlan =
  | { readonly kind: 'live' }
  /** Replay `events`, then go live; `from` is where the client stood, per partition it knew. */
  | { readonly kind: 'replay'; readonly events: readonly GatewayEvent[]; readonly from: LogPosition }
  /** The id cannot be served completely: the client refetches its state, the stream goes live. */
  | { readonly kind: 'reset'; readonly reason: ResetReason };

export interface ResumeContext {
  readonly userId: string;
  /** The stream's topics. */
  readonly topics: readonly string[];
  readonly configuredTopics: readonly string[];
  /** The slots of an id that concern the user (partition-owner mode drops the others). */
  readonly scope: ResumeScope;
  readonly log: LogReader;
}

/**
 * Decides how a stream resumes. Topics the id does not mention start live: the client never read
 * them, so it missed nothing there. An id carries every partition its instance knew; slots outside
 * the scope say nothing about this user.
 */
export function planResume(from: ResumeFrom, context: ResumeContext): ResumePlan {
  if (from.kind === 'live') return from;
  if (from.kind === 'malformed') return { kind: 'reset', reason: 'malformed-id' };
  const { cursor } = from;
  const { topics, configuredTopics, scope, log } = context;
  for (const topic of cursor.topics()) {
    if (!configuredTopics.includes(topic)) return { kind: 'reset', reason: 'unknown-position' };
  }
  const position = cursor.snapshot(topics.filter((topic) => cursor.hasTopic(topic)));
  for (const [topic, partition] of [...position.entries()]) {
    if (!scope(topic, partition)) position.delete(topic, partition);
    else if (!log.knows(topic, partition)) return { kind: 'reset', reason: 'unknown-position' };
  }
  const replay = log.replay(context.userId, topics, position);
  return replay.ok
    ? { kind: 'replay', events: replay.events, from: position }
    : { kind: 'reset', reason: replay.reason };
}
