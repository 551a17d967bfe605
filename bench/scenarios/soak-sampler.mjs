// @ts-check
/**
 * One sample of a gateway during the soak, from its /metrics on its management port: memory,
 * event-loop delay (prom-client's, over the last scrape interval), consumer lag summed over its
 * partitions, open streams, the replay buffer and the counters the end reports.
 */
import { scrapeMetrics, total } from '../harness/metrics.mjs';

/**
 * @param {{ managementUrl: string }} gateway
 * @param {string} instance
 * @param {number} t seconds since the traffic started
 */
export async function sampleGateway(gateway, instance, t) {
  const samples = await scrapeMetrics(`${gateway.managementUrl}/metrics`);
  const value = (/** @type {string} */ name) => total(samples, name, NaN);
  /** @param {string} name */
  const byLabel = (name) => {
    /** @type {Record<string, number>} */
    const out = {};
    for (const sample of samples) {
      if (sample.name !== name) continue;
      const label = /="([^"]*)"/.exec(sample.labels)?.[1] ?? '';
      out[label] = (out[label] ?? 0) + sample.value;
    }
    return out;
  };
  return {
    t: Math.round(t * 10) / 10,
    instance,
    rssBytes: value('process_resident_memory_bytes'),
    heapUsedBytes: value('nodejs_heap_size_used_bytes'),
    heapTotalBytes: value('nodejs_heap_size_total_bytes'),
    // 0 until the gateway's first major collection: not a measurement yet.
    heapLiveBytes: value('gateway_heap_live_bytes') || NaN,
    loopP99Ms: Math.round(value('nodejs_eventloop_lag_p99_seconds') * 1e5) / 100,
    loopMaxMs: Math.round(value('nodejs_eventloop_lag_max_seconds') * 1e5) / 100,
    lag: value('kafka_consumer_lag'),
    streamsOpen: value('sse_streams_open'),
    replayBufferBytes: value('sse_replay_buffer_bytes'),
    replayBufferEvents: value('sse_replay_buffer_events'),
    cpuSeconds: value('process_cpu_seconds_total'),
    deliveredTotal: value('sse_events_delivered_total'),
    replayedTotal: total(samples, 'sse_replayed_events_total'),
    streamsClosed: byLabel('sse_streams_closed_total'),
    resets: byLabel('sse_resets_total'),
  };
}

/** @typedef {Awaited<ReturnType<typeof sampleGateway>>} SoakSample */
