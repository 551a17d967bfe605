import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

/** A `gc` performance entry: its detail says which collection it was. */
type GcEntry = PerformanceEntry & { readonly detail?: { readonly kind?: number } };

/**
 * The heap in use just after each major collection: the live heap. RSS and the heap's total also
 * count what V8 keeps committed but free, which grows under load until the heap nears its bound;
 * a leak raises this figure, that does not.
 */
export class LiveHeap {
  private readonly observer: PerformanceObserver;
  private bytes: number | undefined;

  constructor(
    private readonly onMeasured: (bytes: number) => void,
    private readonly heapUsed: () => number = () => getHeapStatistics().used_heap_size,
  ) {
    this.observer = new PerformanceObserver((list) => this.collected(list.getEntries()));
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** The live heap after the last major collection seen, in bytes. */
  get lastBytes(): number | undefined {
    return this.bytes;
  }

  /** Entries arrive a moment after their collections, in one batch; what was allocated since is small. */
  collected(entries: readonly PerformanceEntry[]): void {
    const major = entries.some(
      (entry) => (entry as GcEntry).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR,
    );
    if (!major) return;
    this.bytes = this.heapUsed();
    this.onMeasured(this.bytes);
  }

  stop(): void {
    this.observer.disconnect();
  }
}
