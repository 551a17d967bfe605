import { parseCursor, type MutableCursor } from '../event-bus/event-id.js';
import type { EventBusService } from '../event-bus/event-bus.service.js';
import type { GatewayEvent } from '../event-bus/gateway-event.js';

export type ResetReason = 'malformed-id' | 'unknown-position' | 'too-old';

export type ResumePlan =
  /** No id: the stream starts at this instance's current position. */
  | { readonly kind: 'live' }
  /** Replay `events`, then go live; `from` is where the client stood, per partition it knew. */
  | { readonly kind: 'replay'; readonly events: GatewayEvent[]; readonly from: MutableCursor }
  /** The id cannot be served completely: tell the client to refetch its state, then go live. */
  | { readonly kind: 'reset'; readonly reason: ResetReason };

export const RESET_MESSAGES: Record<ResetReason, string> = {
  'malformed-id': 'The last event id is not one this gateway issued',
  'unknown-position': 'The last event id names topics or partitions this gateway does not know',
  'too-old': 'Some events after the last event id are no longer kept; refetch your state',
};

/**
 * Decides how a stream that presents `lastEventId` resumes. Topics the id does not mention start
 * live: the client never read them, so it missed nothing there.
 */
export function planResume(
  lastEventId: string | undefined,
  userId: string,
  topics: readonly string[],
  configuredTopics: readonly string[],
  bus: EventBusService,
): ResumePlan {
  if (lastEventId === undefined) return { kind: 'live' };
  const cursor = parseCursor(lastEventId);
  if (!cursor) return { kind: 'reset', reason: 'malformed-id' };
  const from: MutableCursor = new Map();
  for (const [topic, offsets] of cursor) {
    if (!configuredTopics.includes(topic)) return { kind: 'reset', reason: 'unknown-position' };
    if (!topics.includes(topic)) continue;
    for (const partition of offsets.keys()) {
      if (bus.nextOffset(topic, partition) === undefined)
        return { kind: 'reset', reason: 'unknown-position' };
    }
    from.set(topic, offsets);
  }
  const replay = bus.replay(userId, new Set(topics), from);
  return replay.ok
    ? { kind: 'replay', events: replay.events, from }
    : { kind: 'reset', reason: replay.reason };
}
