import { constants, type PerformanceEntry } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LiveHeap } from './live-heap.js';

const gc = (kind: number) => ({ entryType: 'gc', detail: { kind } }) as unknown as PerformanceEntry;

describe(LiveHeap.name, () => {
  let heap: LiveHeap | undefined;
  afterEach(() => heap?.stop());

  it('should measure the heap after a major collection and not after a minor one', () => {
    const measured: number[] = [];
    let used = 100;
    heap = new LiveHeap(
      (bytes) => measured.push(bytes),
      () => used,
    );

    heap.collected([gc(constants.NODE_PERFORMANCE_GC_MINOR)]);
    used = 200;
    heap.collected([gc(constants.NODE_PERFORMANCE_GC_MINOR), gc(constants.NODE_PERFORMANCE_GC_MAJOR)]);

    expect(measured).toEqual([200]);
    expect(heap.lastBytes).toBe(200);
  });

  it('should see a real major collection of this process', async () => {
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    const measured = new Promise<number>((resolve) => (heap = new LiveHeap(resolve)));

    collect();

    expect(await measured).toBeGreaterThan(0);
  });
});
