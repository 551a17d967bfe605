import { Counter, Gauge, type Registry } from 'prom-client';

/** Why a stream request was sent on before any stream started (partition-owner mode). */
export type OwnerRouteReason = 'not-owner' | 'soft-retry';

/**
 * The metrics of partition ownership. They exist only in partition-owner mode, so an
 * every-instance gateway does not expose them.
 */
export class OwnershipMetrics {
  private readonly owned: Gauge;
  private readonly warmups: Counter;
  private readonly redirects: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.owned = new Gauge({
      name: 'gateway_owned_partitions',
      help: 'Partition indexes of the keyed topics this instance owns (partition-owner mode)',
      registers,
    });
    this.warmups = new Counter({
      name: 'gateway_partition_warmups_total',
      help: 'Partitions this instance gained and read from the start of the replay window',
      registers,
    });
    this.redirects = new Counter({
      name: 'sse_redirects_total',
      help: 'Stream requests sent on before a stream started: not-owner (307 to the owner) or soft-retry (ask again shortly)',
      labelNames: ['reason'],
      registers,
    });
  }

  ownedPartitions(count: number): void {
    this.owned.set(count);
  }

  warmedUp(): void {
    this.warmups.inc();
  }

  redirected(reason: OwnerRouteReason): void {
    this.redirects.inc({ reason });
  }
}
