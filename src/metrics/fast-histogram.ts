import type { Registry } from 'prom-client';

/** What a registry reads from a metric to write it (prom-client's typings call the type a number). */
interface Exposition {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram';
  readonly aggregator: 'sum';
  readonly values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }>;
}

/**
 * A histogram without labels whose observe is a loop over its bounds and an increment: it runs
 * once per delivered event, where prom-client's Histogram allocates and hashes labels every
 * time. The registry reads it like any metric (`get()`), and writes it in the same format.
 */
export class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    this.counts = buckets.map(() => 0);
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= this.buckets[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }

  get(): Promise<Exposition> {
    const values: Exposition['values'] = [];
    let cumulative = 0;
    this.buckets.forEach((bound, i) => {
      cumulative += this.counts[i]!;
      values.push({ metricName: `${this.name}_bucket`, labels: { le: bound }, value: cumulative });
    });
    values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf' }, value: this.count });
    values.push({ metricName: `${this.name}_sum`, labels: {}, value: this.sum });
    values.push({ metricName: `${this.name}_count`, labels: {}, value: this.count });
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    });
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}
