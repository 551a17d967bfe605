import type { Audience } from './gateway-event.js';

/**
 * The keys an event is filed under, the same for routing and for the replay store: one per user
 * it is addressed to, or the topic's broadcast key. A user's key is its id, as found in the record;
 * a broadcast key starts with NUL, which no user id may hold (see isCleanText), so the two never
 * meet.
 */
export function audienceKeys(topic: string, audience: Audience): readonly string[] {
  switch (audience.kind) {
    case 'user':
      return [audience.userId];
    case 'users':
      return audience.userIds;
    case 'broadcast':
      return [broadcastKey(topic)];
  }
}

export function userKey(userId: string): string {
  return userId;
}

/** Topic → its broadcast key, so that filing and evicting a broadcast builds no string. */
const broadcastKeys = new Map<string, string>();

export function broadcastKey(topic: string): string {
  let key = broadcastKeys.get(topic);
  if (key === undefined) broadcastKeys.set(topic, (key = `\u0000${topic}`));
  return key;
}

/** How many keys `audience` is filed under, without building them. */
export function keyCount(audience: Audience): number {
  return audience.kind === 'users' ? audience.userIds.length : 1;
}
