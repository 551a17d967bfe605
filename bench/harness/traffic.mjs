// @ts-check
/**
 * Producing and awaiting the load's events: sends kept in flight without awaiting each, the
 * steady mixes' records, a delivery rate over the last second, and waiting for deliveries.
 */
import { sleep } from './processes.mjs';
import { broadcastRecord, targetedRecord } from './producer.mjs';
import { asError, fmt } from './session.mjs';
import { monotonicMs } from './stats.mjs';

/**
 * Sends to Kafka without awaiting each: the loop that produces goes on while earlier sends are
 * acknowledged; the first failure is thrown by the next `check` or by `settle`.
 */
export class SendQueue {
  /** @type {Set<Promise<void>>} */
  #inFlight = new Set();
  /** @type {unknown} */
  #error;

  /** @param {import('./producer.mjs').BenchProducer} producer */
  constructor(producer) {
    this.producer = producer;
  }

  get inFlight() {
    return this.#inFlight.size;
  }

  /** @param {import('./producer.mjs').BenchRecord[]} records */
  send(records) {
    const sending = this.producer
      .send(records)
      .catch((/** @type {unknown} */ err) => void (this.#error = err));
    this.#inFlight.add(sending);
    void sending.finally(() => this.#inFlight.delete(sending));
  }

  check() {
    if (this.#error) throw asError(this.#error);
  }

  /** Waits for every send; throws the first failure. */
  async settle() {
    await Promise.all(this.#inFlight);
    this.check();
  }
}

/**
 * Whether event `seq` of a mix with `percent` broadcasts is one: broadcasts spread evenly, seq is
 * one when floor(seq·p/100) steps up.
 * @param {number} seq
 * @param {number} percent
 */
export function isBroadcastAt(seq, percent) {
  return Math.floor(((seq + 1) * percent) / 100) > Math.floor((seq * percent) / 100);
}

/**
 * Records `from` … `from + count − 1` of a mix with `percent` broadcasts (the others targeted, to
 * users seq mod streams), and the deliveries they make to `streams` streams.
 * @param {string} eventType
 * @param {number} from
 * @param {number} count
 * @param {number} percent
 * @param {number} streams
 */
export function mixedRecords(eventType, from, count, percent, streams) {
  const records = [];
  let deliveries = 0;
  let broadcasts = 0;
  for (let seq = from; seq < from + count; seq++) {
    if (isBroadcastAt(seq, percent)) {
      broadcasts++;
      deliveries += streams;
      records.push(broadcastRecord(eventType, seq));
    } else {
      deliveries += 1;
      records.push(targetedRecord(eventType, seq, seq % streams));
    }
  }
  return { records, deliveries, broadcasts };
}

/** Delivered rate over the last second, from progress samples. */
export class RateMeter {
  /** @type {Array<[number, number]>} */
  samples = [];
  /** @param {number} now @param {number} count */
  add(now, count) {
    this.samples.push([now, count]);
    while (this.samples.length > 2 && now - (this.samples[1]?.[0] ?? now) >= 1000) this.samples.shift();
  }
  get perSecond() {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last[0] - first[0] < 200) return 0;
    return ((last[1] - first[1]) * 1000) / (last[0] - first[0]);
  }
}

/**
 * Waits until `delivered()` reaches `expected`; gives up when nothing arrives for `idleMs` or at
 * `hardMs`, and says whether everything arrived. With a `label`, logs progress every second and
 * a line when it gives up.
 * @param {import('./session.mjs').Session} session
 * @param {() => number} delivered
 * @param {number} expected
 * @param {{ idleMs?: number, hardMs?: number, label?: string }} [options]
 */
export async function drain(session, delivered, expected, { idleMs = 10_000, hardMs = 120_000, label } = {}) {
  const start = monotonicMs();
  let lastCount = -1;
  let lastChange = start;
  let lastLine = start;
  for (;;) {
    session.checkStopping();
    const count = delivered();
    const now = monotonicMs();
    if (count >= expected) return true;
    if (count !== lastCount) {
      lastCount = count;
      lastChange = now;
    }
    if (now - lastChange > idleMs || now - start > hardMs) {
      if (label) session.log(`${label}: gave up waiting with ${fmt(count)} of ${fmt(expected)} deliveries`);
      return false;
    }
    if (label && now - lastLine >= 1000) {
      lastLine = now;
      session.log(`${label}: draining, ${fmt(count)} of ${fmt(expected)} delivered`);
    }
    await sleep(20);
  }
}
