import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Audience, GatewayEvent } from './gateway-event.js';
import { ReplayStore } from './replay-store.js';

/**
 * REPLAY_MAX_BYTES is a bound on real memory: the heap a full store takes, measured after full
 * garbage collections, stays within it, whatever the records look like.
 */

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const BUDGET = 16 * 1024 ** 2;
const NOW = 1_700_000_000_000;

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Fills a store of BUDGET bytes with three times what fits, and measures the heap it holds. */
function heapOfFullStore(
  make: (offset: number) => Omit<GatewayEvent, 'topic' | 'partition' | 'offset' | 'timestamp'>,
): {
  heap: number;
  accounted: number;
  events: number;
} {
  const before = heapUsed();
  const store = new ReplayStore({
    windowMs: 3_600_000,
    maxBytes: BUDGET,
    maxBytesPerUser: BUDGET,
    maxBytesPerBroadcastTopic: BUDGET,
  });
  store.completeFrom('notifications', 0, 0);
  let offset = 0;
  let evicted = 0;
  while (evicted < 2 * store.size + 1000) {
    const content = make(offset);
    const event: GatewayEvent = { topic: 'notifications', partition: 0, offset, timestamp: NOW, ...content };
    store.append(event, NOW);
    offset++;
    evicted = offset - store.size;
  }
  const heap = heapUsed() - before;
  return { heap, accounted: store.bytes, events: store.size };
}

/** A fresh string, as JSON.parse makes one for every record. */
const fresh = (text: string): string => JSON.parse(JSON.stringify(text)) as string;

describe(`${ReplayStore.name} memory`, () => {
  it.each<[string, (offset: number) => { type: string; data: string; audience: Audience }]>([
    [
      'small events for ever new users',
      (n) => ({
        type: fresh('notification'),
        data: fresh(`{"n":${n}}`),
        audience: { kind: 'user', userId: fresh(`user-${n}`) },
      }),
    ],
    [
      'users with 256-character ids',
      (n) => ({
        type: fresh('notification'),
        data: fresh(`{"n":${n}}`),
        audience: { kind: 'user', userId: fresh(`${'x'.repeat(250)}${String(n).padStart(6, '0')}`) },
      }),
    ],
    [
      'events for 9,000 users each',
      (n) => ({
        type: fresh('notification'),
        data: fresh(`{"n":${n}}`),
        audience: {
          kind: 'users',
          userIds: Array.from({ length: 9000 }, (_, i) => fresh(`user-${(n * 7 + i) % 20_000}`)),
        },
      }),
    ],
    [
      '2 KB broadcasts',
      (n) => ({
        type: fresh('notification'),
        data: fresh(`{"n":${n},"pad":"${'p'.repeat(2000)}"}`),
        audience: { kind: 'broadcast' },
      }),
    ],
    [
      'text outside Latin-1',
      (n) => ({
        type: fresh('notification'),
        data: fresh(`{"n":${n},"text":"${'世界'.repeat(60)}"}`),
        audience: { kind: 'user', userId: fresh(`ü-${n}`) },
      }),
    ],
  ])('should hold %s within REPLAY_MAX_BYTES of heap', (_, make) => {
    const { heap, accounted, events } = heapOfFullStore(make);

    expect(events).toBeGreaterThan(0);
    expect(accounted).toBeLessThanOrEqual(BUDGET);
    // Within the budget, and not so far under it that the accounting wastes it.
    expect(heap).toBeLessThanOrEqual(BUDGET * 1.1);
    expect(heap).toBeGreaterThan(BUDGET * 0.5);
  });
});
