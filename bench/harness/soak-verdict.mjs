// @ts-check
/**
 * The soak's judgement, as plain functions of what it recorded: which expected deliveries arrived,
 * which are lost and which a `reset` excuses, duplicates and misdeliveries; how RSS and consumer lag
 * moved after warm-up on each instance; and the verdict with its one-line reason.
 *
 * What a stream should have received: the soak opens every stream before its traffic starts, and
 * every stream comes back with its last id whenever it is closed, so it is subscribed or resumable
 * for the whole run: every event produced during the run and addressed to its user (its own
 * events, `userIds` events naming it, broadcasts) is expected, once. A `reset` tells the stream
 * that it lost continuity: an event it misses that was sent before it received a reset is counted
 * as skipped by the reset, not lost. (That also excuses events sent between the reset's cursor and
 * its receipt, which should have arrived: a reset can hide a loss of that short span, never report
 * one that did not happen.)
 */

/**
 * Send times (monotonic ms) of the events the soak produced, by number: `personal[user][n]` for the
 * user's n-th own or `userIds` event, `broadcast[b]` for the b-th broadcast.
 * @typedef {{ personal: number[][], broadcast: number[] }} Ledger
 * @typedef {import('../soak-client.mjs').StreamReport} StreamReport
 */

/**
 * @param {Ledger} ledger
 * @param {StreamReport[]} reports one per stream
 */
export function countDeliveries(ledger, reports) {
  const counts = {
    streams: reports.length,
    expected: 0,
    received: 0,
    lost: 0,
    streamsWithLoss: 0,
    skippedByReset: 0,
    duplicates: 0,
    misdelivered: 0,
    /** Numbers no event sent to the stream carried: a fault of the soak itself. */
    unexpected: 0,
    resets: 0,
    /** @type {Record<string, number>} */
    resetReasons: {},
    /** @type {string[]} */
    examples: [],
  };
  for (const report of reports) {
    const lastReset = report.resets.reduce((latest, reset) => Math.max(latest, reset.at), -Infinity);
    let lostHere = 0;
    /** @param {string} kind @param {import('../soak-client.mjs').TallyReport} tally @param {number[]} sentAt */
    const check = (kind, tally, sentAt) => {
      counts.expected += sentAt.length;
      counts.received += Math.min(tally.next, sentAt.length);
      counts.unexpected += Math.max(0, tally.next - sentAt.length);
      const early = new Set();
      for (const n of tally.above) {
        if (n < sentAt.length) {
          counts.received++;
          early.add(n);
        } else counts.unexpected++;
      }
      for (let n = tally.next; n < sentAt.length; n++) {
        if (early.has(n)) continue;
        if (/** @type {number} */ (sentAt[n]) < lastReset) {
          counts.skippedByReset++;
          continue;
        }
        lostHere++;
        if (counts.examples.length < 10) counts.examples.push(`u${report.user} ${kind} #${n}`);
      }
    };
    check('own', report.personal, ledger.personal[report.user] ?? []);
    check('broadcast', report.broadcast, ledger.broadcast);
    counts.lost += lostHere;
    if (lostHere > 0) counts.streamsWithLoss++;
    counts.duplicates += report.duplicates;
    counts.misdelivered += report.misdelivered;
    counts.resets += report.resets.length;
    for (const { reason } of report.resets)
      counts.resetReasons[reason] = (counts.resetReasons[reason] ?? 0) + 1;
  }
  return counts;
}

/** @typedef {ReturnType<typeof countDeliveries>} DeliveryCounts */

/**
 * The Theil–Sen slope: the median of the slopes between every pair of points. A few outliers (a
 * GC's sawtooth, one slow scrape) do not move it, as they move a least-squares line.
 * @param {Array<[number, number]>} points [x, y]
 * @returns {number} NaN with fewer than two distinct x
 */
export function theilSen(points) {
  /** @type {number[]} */
  const slopes = [];
  for (let i = 0; i < points.length; i++) {
    const [xi, yi] = /** @type {[number, number]} */ (points[i]);
    for (let j = i + 1; j < points.length; j++) {
      const [xj, yj] = /** @type {[number, number]} */ (points[j]);
      if (xj !== xi) slopes.push((yj - yi) / (xj - xi));
    }
  }
  return median(slopes);
}

/** @param {number[]} values */
export function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const upper = sorted[middle] ?? NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? NaN) + upper) / 2;
}

/**
 * @typedef {{ t: number, instance: string, rssBytes: number, heapLiveBytes: number, lag: number }} TrendSample
 *   `t` in seconds since the traffic started; `heapLiveBytes` NaN before the first major collection
 * @typedef {{ instance: string, warmUpEndS: number, endS: number }} Segment
 *   the span in which an instance held the streams, and when its warm-up ended
 */

/**
 * How RSS and consumer lag moved on each instance between its warm-up's end and the end of its span.
 * @param {TrendSample[]} samples
 * @param {Segment[]} segments
 * @param {{ slopeMinMinutes: number }} params
 */
export function trends(samples, segments, params) {
  return segments.map((segment) => {
    const points = samples.filter(
      (s) => s.instance === segment.instance && s.t >= segment.warmUpEndS && s.t <= segment.endS,
    );
    const first = points[0];
    const last = points.at(-1);
    const minutes = first && last ? (last.t - first.t) / 60 : 0;
    const lags = points.filter((s) => Number.isFinite(s.lag));
    return {
      instance: segment.instance,
      fromS: first?.t ?? null,
      toS: last?.t ?? null,
      minutes: Math.round(minutes * 10) / 10,
      samples: points.length,
      rssSlopeMiBPerHour: round2(theilSen(points.map((s) => [s.t / 3600, s.rssBytes / 2 ** 20]))),
      rssJudged: minutes >= params.slopeMinMinutes,
      heapLiveSlopeMiBPerHour: round2(
        theilSen(
          points.filter((s) => s.heapLiveBytes > 0).map((s) => [s.t / 3600, s.heapLiveBytes / 2 ** 20]),
        ),
      ),
      lagSlopePerMinute: round2(theilSen(lags.map((s) => [s.t / 60, s.lag]))),
      finalLag: Math.round(median(lags.slice(-3).map((s) => s.lag))),
      lagJudged: lags.length >= 3,
    };
  });
}

/** @typedef {ReturnType<typeof trends>[number]} Trend */

/** @param {number} value */
function round2(value) {
  return Number.isFinite(value) ? Math.round(value * 100) / 100 : null;
}

/**
 * Pass or fail, and why, in one line.
 * @param {DeliveryCounts} counts
 * @param {Trend[]} instanceTrends
 * @param {{ maxRssSlopeMiBPerHour: number, maxLagGrowthPerMinute: number, lagFloor: number }} limits
 */
export function verdict(counts, instanceTrends, limits) {
  /** @type {string[]} */
  const reasons = [];
  if (counts.expected === 0) reasons.push('no event was addressed to any stream');
  if (counts.lost > 0)
    reasons.push(
      `${counts.lost} deliveries lost on ${counts.streamsWithLoss} streams (e.g. ${counts.examples.join(', ')})`,
    );
  if (counts.duplicates > 0) reasons.push(`${counts.duplicates} duplicate deliveries`);
  if (counts.misdelivered > 0)
    reasons.push(`${counts.misdelivered} events delivered to a user they were not for`);
  if (counts.unexpected > 0)
    reasons.push(`${counts.unexpected} numbers that no event for the stream carried`);
  for (const trend of instanceTrends) {
    const growing = (trend.lagSlopePerMinute ?? 0) > limits.maxLagGrowthPerMinute;
    if (trend.lagJudged && growing && trend.finalLag > limits.lagFloor)
      reasons.push(
        `consumer lag of instance ${trend.instance} kept growing (${trend.lagSlopePerMinute} records a minute, ` +
          `${trend.finalLag} at the end)`,
      );
    if (trend.rssJudged && (trend.rssSlopeMiBPerHour ?? 0) > limits.maxRssSlopeMiBPerHour)
      reasons.push(
        `RSS of instance ${trend.instance} grew ${trend.rssSlopeMiBPerHour} MiB/hour after warm-up ` +
          `(limit ${limits.maxRssSlopeMiBPerHour})`,
      );
  }
  return { passed: reasons.length === 0, reasons };
}
