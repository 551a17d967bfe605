import { createRequire } from 'node:module';

/**
 * A fix of kafkajs 2.2.4's request queue, applied when this module loads.
 *
 * The queue schedules its next look at pending requests `throttledUntil - Date.now()` ms ahead,
 * and `throttledUntil` is -1 until a broker throttles: a delay of minus the epoch. Node runs such
 * a timer after 1 ms, but from Node 23 on it also prints a TimeoutNegativeWarning to stderr, on a
 * terminal user's screen and in the logs. The delay is computed here from no earlier than now, so
 * the timer is the same and nothing is printed; the queue's state is left as it was.
 */
interface RequestQueue {
  throttledUntil: number;
  scheduleCheckPendingRequests: (this: RequestQueue) => void;
}

const require = createRequire(import.meta.url);
const { prototype } = require('kafkajs/src/network/requestQueue') as { prototype: RequestQueue };
const schedule = prototype.scheduleCheckPendingRequests;

prototype.scheduleCheckPendingRequests = function (this: RequestQueue): void {
  const throttledUntil = this.throttledUntil;
  this.throttledUntil = Math.max(throttledUntil, Date.now());
  try {
    schedule.call(this);
  } finally {
    this.throttledUntil = throttledUntil;
  }
};
