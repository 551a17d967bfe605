// @ts-check
/**
 * The soak's traffic: events for one user, `userIds` events for a few users and broadcasts, each
 * at its own steady rate, plus heavier events for the slow readers; every event numbered (per
 * user for what is addressed to users, one sequence for broadcasts) and its send time kept in the
 * ledger, so that the end can tell what each stream should have received.
 */
import { monotonicMs } from '../harness/stats.mjs';

/** Rounded to the microseconds the clock has. @param {number} ms */
const stamp = (ms) => Math.round(ms * 1000) / 1000;

export class SoakTraffic {
  /** @type {import('../harness/soak-verdict.mjs').Ledger} */
  ledger;
  produced = { targeted: 0, userIds: 0, broadcast: 0, slow: 0 };
  /** @type {number | undefined} */
  #startedAt;

  /**
   * @param {Pick<import('../harness/params.mjs').SoakParams, 'streams' | 'targetedRate' | 'userIdsRate'
   *   | 'usersPerUserIdsEvent' | 'broadcastRate' | 'slowEventsPerSecond' | 'slowEventBytes'>} params
   * @param {number[]} slowUsers
   * @param {{ send(records: import('../harness/producer.mjs').BenchRecord[]): void }} sends
   */
  constructor(params, slowUsers, sends) {
    this.params = params;
    this.slowUsers = slowUsers;
    this.sends = sends;
    this.ledger = { personal: Array.from({ length: params.streams }, () => []), broadcast: [] };
  }

  /** Deliveries the streams should have had so far: their users' events and every broadcast. */
  get expectedDeliveries() {
    let personal = 0;
    for (const sent of this.ledger.personal) personal += sent.length;
    return personal + this.ledger.broadcast.length * this.params.streams;
  }

  /** Sends every event that is due by now (rates count from the first call). */
  tick() {
    const now = monotonicMs();
    this.#startedAt ??= now;
    const seconds = (now - this.#startedAt) / 1000;
    const due = (/** @type {keyof SoakTraffic['produced']} */ kind, /** @type {number} */ rate) =>
      Math.max(0, Math.floor(seconds * rate) - this.produced[kind]);
    /** @type {import('../harness/producer.mjs').BenchRecord[]} */
    const records = [];
    const { streams, usersPerUserIdsEvent } = this.params;
    for (let i = due('targeted', this.params.targetedRate); i > 0; i--) {
      records.push(this.#forUsers([randomUser(streams)], now));
      this.produced.targeted++;
    }
    for (let i = due('userIds', this.params.userIdsRate); i > 0; i--) {
      /** @type {Set<number>} */
      const users = new Set();
      while (users.size < Math.min(usersPerUserIdsEvent, streams)) users.add(randomUser(streams));
      records.push(this.#forUsers([...users], now));
      this.produced.userIds++;
    }
    for (let i = due('broadcast', this.params.broadcastRate); i > 0; i--) {
      const data = { t: stamp(now), b: this.ledger.broadcast.length };
      this.ledger.broadcast.push(now);
      records.push({ key: null, value: JSON.stringify({ type: 'soak', data, broadcast: true }) });
      this.produced.broadcast++;
    }
    if (this.slowUsers.length > 0) {
      for (let i = due('slow', this.params.slowEventsPerSecond * this.slowUsers.length); i > 0; i--) {
        const user = /** @type {number} */ (this.slowUsers[this.produced.slow % this.slowUsers.length]);
        records.push(this.#forUsers([user], now, 'x'.repeat(this.params.slowEventBytes)));
        this.produced.slow++;
      }
    }
    if (records.length > 0) this.sends.send(records);
  }

  /**
   * An event for `users`, numbered in each user's own sequence.
   * @param {number[]} users
   * @param {number} now
   * @param {string} [pad]
   * @returns {import('../harness/producer.mjs').BenchRecord}
   */
  #forUsers(users, now, pad) {
    /** @type {Record<string, number>} */
    const n = {};
    for (const user of users) {
      const sent = /** @type {number[]} */ (this.ledger.personal[user]);
      n[`u${user}`] = sent.length;
      sent.push(now);
    }
    const data = { t: stamp(now), n, ...(pad === undefined ? {} : { pad }) };
    if (users.length === 1) {
      const userId = `u${users[0]}`;
      return { key: userId, value: JSON.stringify({ type: 'soak', data, userId }) };
    }
    return { key: null, value: JSON.stringify({ type: 'soak', data, userIds: users.map((u) => `u${u}`) }) };
  }
}

/** @param {number} streams */
function randomUser(streams) {
  return Math.floor(Math.random() * streams);
}

/** `count` users spread evenly over `streams`. @param {number} streams @param {number} count */
export function spreadUsers(streams, count) {
  return Array.from({ length: count }, (_, i) => Math.floor(((i + 0.5) * streams) / count));
}
