// @ts-check
/**
 * The long-absence scenario's check that nothing was lost or duplicated: record i of the absence
 * goes to user i mod users and carries that user's number floor(i / users), so each user's events
 * are numbered 0, 1, 2, … and a stream can tell which of its numbers it missed or got twice.
 */

/**
 * How many of `total` records, dealt round-robin over `users` users, user `user` (0-based) gets.
 * @param {number} total
 * @param {number} users
 * @param {number} user
 */
export function expectedFor(total, users, user) {
  return Math.floor(total / users) + (user < total % users ? 1 : 0);
}

/**
 * The user and number of record `index` of the absence, dealt round-robin over `users` users.
 * @param {number} index
 * @param {number} users
 */
export function numberOf(index, users) {
  return { user: index % users, n: Math.floor(index / users) };
}

/** The numbers one stream received. */
export class Numbering {
  /** @type {Set<number>} */
  #seen = new Set();
  duplicated = 0;
  /** Numbers that arrived after a higher one. */
  outOfOrder = 0;
  #highest = -1;

  /** @param {number} n */
  add(n) {
    if (this.#seen.has(n)) {
      this.duplicated++;
      return false;
    }
    this.#seen.add(n);
    if (n < this.#highest) this.outOfOrder++;
    this.#highest = Math.max(this.#highest, n);
    return true;
  }

  /** Distinct numbers received. */
  get received() {
    return this.#seen.size;
  }

  /**
   * Against the `expected` numbers 0 … expected − 1: those missing (lost) and those received that
   * were never sent (unexpected).
   * @param {number} expected
   */
  tally(expected) {
    let lost = 0;
    for (let n = 0; n < expected; n++) if (!this.#seen.has(n)) lost++;
    let unexpected = 0;
    for (const n of this.#seen) if (!(Number.isInteger(n) && n >= 0 && n < expected)) unexpected++;
    return { lost, duplicated: this.duplicated, outOfOrder: this.outOfOrder, unexpected };
  }
}
