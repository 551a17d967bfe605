import type { GatewayEvent } from '../event-bus/gateway-event.js';
import { LogPosition } from '../event-bus/log-position.js';
import type { StreamHub, TopicSet } from '../event-bus/stream-hub.js';

export type ResetReason = 'malformed-id' | 'unknown-position' | 'too-old' | 'log-changed';

/** Which slots of a resume point concern the stream's user; the others are ignored. */
export type ResumeScope = (topic: string, partition: number) => boolean;

export type ResumePlan =
  /** No id: the stream starts at this instance's current position. */
  | { readonly kind: 'live' }
  /** Replay `events`, then go live; `from` is where the client stood, per partition it knew. */
  | { readonly kind: 'replay'; readonly events: readonly GatewayEvent[]; readonly from: LogPosition }
  /** The id cannot be served completely: the client refetches its state, the stream goes live. */
  | { readonly kind: 'reset'; readonly reason: ResetReason };

export const RESET_MESSAGES: Record<ResetReason, string> = {
  'malformed-id': 'The last event id is not one this gateway issued',
  'unknown-position':
    'The last event id names topics, partitions or offsets this gateway does not know; refetch your state',
  'too-old': 'Some events after the last event id are no longer kept; refetch your state',
  'log-changed':
    'The Kafka log changed under the gateway (a topic recreated, records removed, a failover); refetch your state',
};

/**
 * Decides how a stream that presents `lastEventId` resumes. Topics the id does not mention start
 * live: the client never read them, so it missed nothing there. With a `scope` (partition-owner
 * mode), slots outside it are dropped: an id carries every partition its instance owned, and only
 * the user's own partition of a keyed topic holds its events.
 */
export function planResume(
  lastEventId: string | undefined,
  userId: string,
  topics: TopicSet,
  configuredTopics: readonly string[],
  hub: StreamHub,
  scope?: ResumeScope,
): ResumePlan {
  if (lastEventId === undefined) return { kind: 'live' };
  const cursor = LogPosition.parse(lastEventId);
  if (!cursor) return { kind: 'reset', reason: 'malformed-id' };
  for (const topic of cursor.topics()) {
    if (!configuredTopics.includes(topic)) return { kind: 'reset', reason: 'unknown-position' };
  }
  const from = cursor.snapshot(topics.topics.filter((topic) => cursor.hasTopic(topic)));
  if (scope) {
    for (const [topic, partition] of [...from.entries()])
      if (!scope(topic, partition)) from.delete(topic, partition);
  }
  for (const [topic, partition] of from.entries()) {
    if (!hub.knows(topic, partition)) return { kind: 'reset', reason: 'unknown-position' };
  }
  const replay = hub.replay(userId, topics, from);
  return replay.ok
    ? { kind: 'replay', events: replay.events, from }
    : { kind: 'reset', reason: replay.reason };
}
