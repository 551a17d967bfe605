import { Registry } from 'prom-client';
import { FastHistogram } from './fast-histogram.js';

describe(FastHistogram.name, () => {
  it('should be written by the registry as a Prometheus histogram: cumulative buckets, sum and count', async () => {
    const registry = new Registry();
    const sut = new FastHistogram('latency_seconds', 'How long it took', [0.1, 1], registry);

    for (const value of [0.05, 0.1, 0.5, 3]) sut.observe(value);

    expect(await registry.metrics()).toBe(
      [
        '# HELP latency_seconds How long it took',
        '# TYPE latency_seconds histogram',
        'latency_seconds_bucket{le="0.1"} 2',
        'latency_seconds_bucket{le="1"} 3',
        'latency_seconds_bucket{le="+Inf"} 4',
        'latency_seconds_sum 3.65',
        'latency_seconds_count 4',
        '',
      ].join('\n'),
    );
    sut.reset();
    expect((await sut.get()).values.at(-1)).toEqual({
      metricName: 'latency_seconds_count',
      labels: {},
      value: 0,
    });
  });
});
