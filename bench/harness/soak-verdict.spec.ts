import { countDeliveries, median, theilSen, trends, verdict } from './soak-verdict.mjs';
import type { StreamReport } from '../soak-client.mjs';

/** A stream's report as the soak client sends it: everything received unless said otherwise. */
function report(user: number, changes: Partial<StreamReport> = {}): StreamReport {
  return {
    user,
    personal: { next: 0, above: [] },
    broadcast: { next: 0, above: [] },
    duplicates: 0,
    duplicateSamples: [],
    misdelivered: 0,
    resets: [],
    opens: 1,
    plannedReconnects: 0,
    serverCloses: 0,
    refusals: 0,
    errors: 0,
    ...changes,
  };
}

const limits = { maxRssSlopeMiBPerHour: 5, maxLagGrowthPerMinute: 10, lagFloor: 100 };

describe(countDeliveries.name, () => {
  // u0 was sent own events at 10, 20 and 30 ms; u1 one at 15 ms; two broadcasts at 5 and 25 ms.
  const ledger = { personal: [[10, 20, 30], [15]], broadcast: [5, 25] };

  it('should count nothing lost when every stream has every number', () => {
    const counts = countDeliveries(ledger, [
      report(0, { personal: { next: 3, above: [] }, broadcast: { next: 2, above: [] } }),
      report(1, { personal: { next: 1, above: [] }, broadcast: { next: 2, above: [] } }),
    ]);

    expect(counts).toMatchObject({ expected: 8, received: 8, lost: 0, skippedByReset: 0, unexpected: 0 });
  });

  it('should count a number missing below one that came as lost', () => {
    const counts = countDeliveries(ledger, [
      report(0, { personal: { next: 1, above: [2] }, broadcast: { next: 2, above: [] } }),
      report(1, { personal: { next: 1, above: [] }, broadcast: { next: 0, above: [1] } }),
    ]);

    expect(counts).toMatchObject({ expected: 8, received: 6, lost: 2, streamsWithLoss: 2 });
    expect(counts.examples).toEqual(['u0 own #1', 'u1 broadcast #0']);
  });

  it('should count what a reset excuses apart from what is lost', () => {
    // u0 missed its events #1 (sent at 20 ms) and #2 (30 ms); it was told of a reset at 25 ms.
    const counts = countDeliveries(ledger, [
      report(0, {
        personal: { next: 1, above: [] },
        broadcast: { next: 2, above: [] },
        resets: [{ at: 25, reason: 'too-old' }],
      }),
    ]);

    expect(counts).toMatchObject({ lost: 1, skippedByReset: 1, resets: 1, resetReasons: { 'too-old': 1 } });
  });

  it('should add up duplicates, misdeliveries and numbers nobody sent', () => {
    const counts = countDeliveries(ledger, [
      report(1, {
        personal: { next: 1, above: [4] },
        broadcast: { next: 2, above: [] },
        duplicates: 2,
        misdelivered: 1,
      }),
    ]);

    expect(counts).toMatchObject({ duplicates: 2, misdelivered: 1, unexpected: 1, lost: 0 });
  });
});

describe(theilSen.name, () => {
  it('should give the slope of a line, whatever a few outliers do', () => {
    const points: Array<[number, number]> = Array.from({ length: 20 }, (_, i) => [i, 100 + 2 * i]);
    points[5] = [5, 1000];
    points[12] = [12, -500];

    expect(theilSen(points)).toBe(2);
  });

  it('should be NaN without two distinct x', () => {
    expect(theilSen([[1, 5]])).toBeNaN();
    expect(median([])).toBeNaN();
    expect(median([3, 1, 2, 10])).toBe(2.5);
  });
});

describe(trends.name, () => {
  /** Samples every 10 s for `minutes`, RSS rising `mibPerHour`, lag rising `lagPerMinute`. */
  const samples = (
    instance: string,
    fromS: number,
    minutes: number,
    mibPerHour: number,
    lagPerMinute: number,
  ) =>
    Array.from({ length: minutes * 6 + 1 }, (_, i) => {
      const t = fromS + i * 10;
      return {
        t,
        instance,
        rssBytes: (200 + (mibPerHour * t) / 3600) * 2 ** 20,
        heapLiveBytes: (100 + (mibPerHour * t) / 3600 / 2) * 2 ** 20,
        lag: (lagPerMinute * t) / 60,
      };
    });

  it('should measure each instance after its warm-up and judge only long enough spans', () => {
    const all = [...samples('A', 0, 30, 3, 0), ...samples('B', 1800, 8, 60, 0)];

    const [a, b] = trends(
      all,
      [
        { instance: 'A', warmUpEndS: 120, endS: 1800 },
        { instance: 'B', warmUpEndS: 1920, endS: Infinity },
      ],
      { slopeMinMinutes: 10 },
    );

    expect(a).toMatchObject({ instance: 'A', fromS: 120, toS: 1800, rssSlopeMiBPerHour: 3, rssJudged: true });
    expect(b).toMatchObject({ instance: 'B', fromS: 1920, rssSlopeMiBPerHour: 60, rssJudged: false });
  });

  it('should give how the live heap moved, from the first major collection on', () => {
    const points = samples('A', 0, 30, 12, 0).map((sample, i) =>
      i < 100 ? { ...sample, heapLiveBytes: NaN } : sample,
    );

    const [a] = trends(points, [{ instance: 'A', warmUpEndS: 120, endS: Infinity }], { slopeMinMinutes: 10 });

    expect(a).toMatchObject({ rssSlopeMiBPerHour: 12, heapLiveSlopeMiBPerHour: 6 });
  });

  it('should fail on RSS growing too fast and on lag that keeps growing', () => {
    const instanceTrends = trends(
      samples('A', 0, 30, 12, 40),
      [{ instance: 'A', warmUpEndS: 120, endS: Infinity }],
      { slopeMinMinutes: 10 },
    );
    const counts = countDeliveries({ personal: [[1]], broadcast: [] }, [
      report(0, { personal: { next: 1, above: [] } }),
    ]);

    const result = verdict(counts, instanceTrends, limits);

    expect(result.passed).toBe(false);
    expect(result.reasons).toEqual([
      'consumer lag of instance A kept growing (40 records a minute, 1193 at the end)',
      'RSS of instance A grew 12 MiB/hour after warm-up (limit 5)',
    ]);
  });
});

describe(verdict.name, () => {
  it('should pass a soak with every delivery once and flat figures', () => {
    const counts = countDeliveries({ personal: [[1, 2]], broadcast: [3] }, [
      report(0, { personal: { next: 2, above: [] }, broadcast: { next: 1, above: [] } }),
    ]);

    expect(verdict(counts, [], limits)).toEqual({ passed: true, reasons: [] });
  });

  it('should name every loss, duplicate and misdelivery in its reason', () => {
    const counts = countDeliveries({ personal: [[1, 2]], broadcast: [] }, [
      report(0, { personal: { next: 1, above: [] }, duplicates: 1, misdelivered: 3 }),
    ]);

    expect(verdict(counts, [], limits).reasons).toEqual([
      '1 deliveries lost on 1 streams (e.g. u0 own #1)',
      '1 duplicate deliveries',
      '3 events delivered to a user they were not for',
    ]);
  });

  it('should fail a soak in which nothing was addressed to anyone', () => {
    expect(verdict(countDeliveries({ personal: [], broadcast: [] }, []), [], limits).passed).toBe(false);
  });
});
