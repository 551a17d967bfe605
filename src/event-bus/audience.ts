import type { Audience } from './gateway-event.js';

/**
 * The keys an event is filed under, the same for routing and for the replay store: one per user
 * it is addressed to, or the topic's broadcast key. A user id and a topic name can never make the
 * same key.
 */
export function audienceKeys(topic: string, audience: Audience): readonly string[] {
  switch (audience.kind) {
    case 'user':
      return [userKey(audience.userId)];
    case 'users':
      return audience.userIds.map(userKey);
    case 'broadcast':
      return [broadcastKey(topic)];
  }
}

export function userKey(userId: string): string {
  return `u:${userId}`;
}

export function broadcastKey(topic: string): string {
  return `b:${topic}`;
}
