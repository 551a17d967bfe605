// @ts-check
/**
 * The ceiling's search for one mix on one cluster, and the fit across instance counts that splits
 * the cost of an event into what every instance pays per record and what its deliveries cost.
 */
import { round } from '../harness/session.mjs';
import { ceilingMixes, ceilingStep } from './ceiling-step.mjs';

/**
 * Doubles or halves the rate until one step passes and one fails, then bisects (geometrically)
 * until the failing rate is within `resolution` of the passing one.
 * @param {import('./ceiling-cluster.mjs').Cluster} cluster
 * @param {import('../harness/params.mjs').MixName} mix
 * @param {number} startRate
 */
export async function findCeiling(cluster, mix, startRate) {
  const { params } = cluster;
  /** @type {Array<Awaited<ReturnType<typeof ceilingStep>>>} */
  const steps = [];
  /** @type {number | undefined} */
  let passing;
  /** @type {number | undefined} */
  let failing;
  let rate = startRate;
  while (steps.length < params.maxSteps) {
    const result = await ceilingStep(cluster, mix, rate);
    steps.push(result);
    if (result.sustained) passing = Math.max(passing ?? 0, rate);
    else failing = Math.min(failing ?? Infinity, rate);
    if (passing !== undefined && failing !== undefined && failing / passing <= 1 + params.resolution) break;
    if (failing === undefined) rate *= 2;
    else if (passing === undefined) rate /= 2;
    else rate = Math.sqrt(passing * failing);
    // A broadcast every few seconds is as low as a rate goes; below, the search is pointless.
    if (rate < 0.5) break;
  }
  const best = steps
    .filter((s) => s.sustained)
    .sort((a, b) => b.offeredEventsPerSecond - a.offeredEventsPerSecond)[0];
  return {
    mix,
    broadcastPercent: ceilingMixes(params)[mix].broadcastPercent,
    /** The highest rate sustained; undefined when even the lowest step fell behind. */
    ceilingEventsPerSecond: passing ?? null,
    /** The lowest rate that fell behind; undefined when no step did (raise BENCH_CEILING_MAX_STEPS). */
    firstFailingEventsPerSecond: failing ?? null,
    atCeiling: best ?? null,
    steps,
  };
}

/** @typedef {Awaited<ReturnType<typeof findCeiling>>} Ceiling */

/**
 * Cluster CPU per event at the ceiling is N·r + k·d, with r the cost of reading and routing a
 * record (paid by every instance) and d the cost of one delivery (k deliveries per event). A
 * least-squares line through the instance counts gives r (slope) and k·d (intercept).
 * @param {Array<{ instances: number, micros: number }>} points
 * @param {number} deliveriesPerEvent k
 */
export function fitPerRecord(points, deliveriesPerEvent) {
  const usable = points.filter((p) => Number.isFinite(p.micros));
  if (usable.length < 2) return null;
  const n = usable.length;
  const mx = usable.reduce((s, p) => s + p.instances, 0) / n;
  const my = usable.reduce((s, p) => s + p.micros, 0) / n;
  const sxx = usable.reduce((s, p) => s + (p.instances - mx) ** 2, 0);
  if (sxx === 0) return null;
  const slope = usable.reduce((s, p) => s + (p.instances - mx) * (p.micros - my), 0) / sxx;
  const intercept = my - slope * mx;
  return {
    perRecordMicros: round(slope, 2),
    perEventDeliveryMicros: round(intercept, 2),
    perDeliveryMicros: round(intercept / deliveriesPerEvent, 3),
    points: usable,
  };
}
