// @ts-check
/**
 * Latency histograms shared by the load clients (which fill them) and the harness (which merges
 * them and reads percentiles), plus the clock every process of the benchmark stamps with.
 */

/**
 * Milliseconds on the machine's monotonic clock (CLOCK_MONOTONIC through libuv), with microsecond
 * precision. Unlike `performance.now()`, which counts from each process's start, this reads the
 * same clock in every process on the machine, so a time stamped by the producer can be compared
 * with one taken by a load client. Unlike `Date.now()`, it does not jump with wall-clock changes.
 */
export function monotonicMs() {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
}

/**
 * Bucket layout: 0.1 ms wide below 100 ms, 1 ms wide below 10 s, 100 ms wide below 10 min, then one
 * overflow bucket. A percentile is read as the middle of its bucket, so it is within half a bucket
 * (±0.05 ms under 100 ms) of the exact value; the maximum is kept exactly.
 */
const FINE_LIMIT_MS = 100;
const MEDIUM_LIMIT_MS = 10_000;
const COARSE_LIMIT_MS = 600_000;
const FINE_BUCKETS = FINE_LIMIT_MS * 10;
const MEDIUM_BUCKETS = MEDIUM_LIMIT_MS - FINE_LIMIT_MS;
const COARSE_BUCKETS = (COARSE_LIMIT_MS - MEDIUM_LIMIT_MS) / 100;
export const BUCKETS = FINE_BUCKETS + MEDIUM_BUCKETS + COARSE_BUCKETS + 1;

/** @param {number} ms */
export function bucketOf(ms) {
  if (!(ms > 0)) return 0;
  if (ms < FINE_LIMIT_MS) return Math.floor(ms * 10);
  if (ms < MEDIUM_LIMIT_MS) return FINE_BUCKETS + Math.floor(ms - FINE_LIMIT_MS);
  if (ms < COARSE_LIMIT_MS) return FINE_BUCKETS + MEDIUM_BUCKETS + Math.floor((ms - MEDIUM_LIMIT_MS) / 100);
  return BUCKETS - 1;
}

/** The middle of a bucket, in ms. @param {number} bucket */
export function bucketValue(bucket) {
  if (bucket < FINE_BUCKETS) return (bucket + 0.5) / 10;
  if (bucket < FINE_BUCKETS + MEDIUM_BUCKETS) return FINE_LIMIT_MS + (bucket - FINE_BUCKETS) + 0.5;
  if (bucket < BUCKETS - 1) return MEDIUM_LIMIT_MS + (bucket - FINE_BUCKETS - MEDIUM_BUCKETS) * 100 + 50;
  return COARSE_LIMIT_MS;
}

/**
 * A histogram as it travels over IPC: only the buckets that are not empty.
 * @typedef {{ buckets: Array<[number, number]>, count: number, max: number, sum: number, negative: number }} SparseHistogram
 */

export class LatencyHistogram {
  counts = new Uint32Array(BUCKETS);
  count = 0;
  max = 0;
  sum = 0;
  /** Samples below zero: clock trouble, which should never happen on one machine. */
  negative = 0;

  /** @param {number} ms */
  record(ms) {
    if (ms < 0) this.negative++;
    const bucket = bucketOf(ms);
    this.counts[bucket] = (this.counts[bucket] ?? 0) + 1;
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  reset() {
    this.counts.fill(0);
    this.count = 0;
    this.max = 0;
    this.sum = 0;
    this.negative = 0;
  }

  /** @returns {SparseHistogram} */
  toSparse() {
    /** @type {Array<[number, number]>} */
    const buckets = [];
    this.counts.forEach((count, bucket) => {
      if (count > 0) buckets.push([bucket, count]);
    });
    return { buckets, count: this.count, max: this.max, sum: this.sum, negative: this.negative };
  }

  /** @param {SparseHistogram} sparse */
  add(sparse) {
    for (const [bucket, count] of sparse.buckets) this.counts[bucket] = (this.counts[bucket] ?? 0) + count;
    this.count += sparse.count;
    this.sum += sparse.sum;
    this.negative += sparse.negative;
    if (sparse.max > this.max) this.max = sparse.max;
  }

  /** @param {number} fraction 0..1 */
  percentile(fraction) {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(this.count * fraction));
    let seen = 0;
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      seen += this.counts[bucket] ?? 0;
      if (seen >= rank) return Math.min(bucketValue(bucket), this.max);
    }
    return this.max;
  }

  summary() {
    const round = (/** @type {number} */ value) => Math.round(value * 100) / 100;
    return {
      samples: this.count,
      p50Ms: round(this.percentile(0.5)),
      p90Ms: round(this.percentile(0.9)),
      p99Ms: round(this.percentile(0.99)),
      maxMs: round(this.max),
      meanMs: this.count === 0 ? NaN : round(this.sum / this.count),
      negativeSamples: this.negative,
    };
  }
}
