import { createRequire } from 'node:module';
import { jest } from '@jest/globals';
import './request-queue.patch.js';

const require = createRequire(import.meta.url);
const RequestQueue = require('kafkajs/src/network/requestQueue') as {
  prototype: { scheduleCheckPendingRequests(this: object): void };
};

describe('the request queue patch', () => {
  afterEach(() => jest.restoreAllMocks());

  it.each([[[]], [[{}]]])(
    'should schedule no timer with a negative delay when no broker throttled (pending %j)',
    (pending) => {
      const delays: number[] = [];
      jest.spyOn(global, 'setTimeout').mockImplementation(((_: () => void, ms: number) => {
        delays.push(ms);
        return 0;
      }) as unknown as typeof setTimeout);
      const queue = { throttledUntil: -1, throttleCheckTimeoutId: null, pending, checkPendingRequests() {} };

      RequestQueue.prototype.scheduleCheckPendingRequests.call(queue);

      expect(delays).toHaveLength(1);
      expect(delays[0]).toBeGreaterThanOrEqual(0);
      expect(queue.throttledUntil).toBe(-1);
    },
  );

  it('should wait out a throttle the broker asked for', () => {
    const delays: number[] = [];
    jest.spyOn(global, 'setTimeout').mockImplementation(((_: () => void, ms: number) => {
      delays.push(ms);
      return 0;
    }) as unknown as typeof setTimeout);
    const queue = {
      throttledUntil: Date.now() + 5_000,
      throttleCheckTimeoutId: null,
      pending: [{}],
      checkPendingRequests() {},
    };

    RequestQueue.prototype.scheduleCheckPendingRequests.call(queue);

    expect(delays[0]).toBeGreaterThan(4_000);
  });
});
