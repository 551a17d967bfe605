// @ts-check
/**
 * idle: opens every stream of the load on a started target and measures what they hold: memory
 * before and after, each after two forced full GCs, per stream; and how fast they opened.
 */
import { sleep } from '../harness/processes.mjs';
import { fmt, round } from '../harness/session.mjs';
import { monotonicMs } from '../harness/stats.mjs';

/**
 * @param {import('../harness/targets.mjs').Context} ctx
 */
export async function idleScenario(ctx) {
  const { session, params, target, load, label } = ctx;
  const streams = params.streams;
  const before = await target.memory();
  const openStart = monotonicMs();
  const opened = await load.open(new URL('/events', target.url), Math.max(60_000, streams * 20), (p) =>
    session.log(
      `${label} opening streams: ${fmt(p.opened)} of ${fmt(streams)} open, ` +
        `${fmt(p.attempts - p.opened)} attempts pending or failed, ${fmt(p.refused)} told to retry later`,
    ),
  );
  const openSeconds = (monotonicMs() - openStart) / 1000;
  session.log(
    `${label} ${fmt(opened)} streams open in ${openSeconds.toFixed(1)} s; idling ${params.idleSettleS} s`,
  );
  await sleep(params.idleSettleS * 1000);
  const after = await target.memory();
  const idle = {
    streams: opened,
    openSeconds: round(openSeconds, 2),
    connectsPerSecond: round(opened / openSeconds, 1),
    refusedOpens: load.progress.refused,
    rssBeforeBytes: before.rss,
    rssAfterBytes: after.rss,
    heapUsedBeforeBytes: before.heapUsed,
    heapUsedAfterBytes: after.heapUsed,
    rssPerStreamBytes: round((after.rss - before.rss) / opened, 1),
    heapPerStreamBytes: round((after.heapUsed - before.heapUsed) / opened, 1),
    externalPerStreamBytes: round((after.external - before.external) / opened, 1),
    procRssPerStreamBytes: round((after.procRss - before.procRss) / opened, 1),
  };
  session.log(
    `${label} idle: RSS ${fmt(idle.rssPerStreamBytes)} B/stream, heap ${fmt(idle.heapPerStreamBytes)} B/stream ` +
      `(RSS ${fmt(before.rss / 2 ** 20)} → ${fmt(after.rss / 2 ** 20)} MiB)`,
  );
  return idle;
}

/** @typedef {Awaited<ReturnType<typeof idleScenario>>} IdleFigures */
