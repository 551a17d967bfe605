import { readFileSync } from 'node:fs';
import { newestStandardRun } from './bench-results.mjs';
import { newestSoak, PERFORMANCE_DOC, performanceDoc, undated } from './performance-doc.mjs';

describe('docs/performance.md', () => {
  it('should be what npm run docs:performance writes from the newest standard bench result', () => {
    // If this fails after a new `npm run bench`: run `npm run docs:performance` and commit the page.
    expect(readFileSync(PERFORMANCE_DOC, 'utf8')).toBe(
      performanceDoc(newestStandardRun()?.data, newestSoak()?.data),
    );
  });

  it('should show a figure the result lacks as "–", whatever else the result holds', () => {
    const page = performanceDoc({
      params: { mode: 'full', streams: 10_000 },
      gateway: { idle: {} },
      storm: null,
    });

    expect(page).toContain('| idle, every stream open | memory (RSS) per stream | – | – | – |');
    expect(page).not.toContain('undefined');
    expect(page).not.toContain('NaN');
  });

  it('should give Fastify beside Express and the soak’s losses, slopes and chart', () => {
    const page = performanceDoc(
      {
        params: { mode: 'full', streams: 10_000 },
        floors: {
          nestSse: { idle: { rssPerStreamBytes: 32_000, connectsPerSecond: 1_000 } },
          nestFastifySse: { idle: { rssPerStreamBytes: 22_000, connectsPerSecond: 700 } },
        },
      },
      {
        kind: 'soak',
        passed: true,
        params: {
          minutes: 60,
          reconnectPercentPerMinute: 1,
          slowStreams: 5,
          restart: true,
          nodeOptions: ['--max-semi-space-size=32', '--max-old-space-size=416'],
        },
        deliveries: {
          streams: 10_000,
          expected: 5_000_000,
          received: 5_000_000,
          lost: 0,
          duplicates: 0,
          misdelivered: 0,
        },
        trends: [
          {
            instance: 'a',
            rssSlopeMiBPerHour: 1.25,
            rssJudged: true,
            heapLiveSlopeMiBPerHour: 0.5,
            lagSlopePerMinute: 0,
            finalLag: 0,
          },
          { instance: 'b', rssSlopeMiBPerHour: 2, rssJudged: true, lagSlopePerMinute: 0, finalLag: 0 },
        ],
        chart: 'soak-x.svg',
      },
    );

    expect(page).toContain(
      "(0.69× the Express route's) but opens 700 streams a second (0.70× the Express route's 1,000)",
    );
    expect(page).toContain('The gateway runs on Express');
    expect(page).toContain(
      '- 5,000,000 of 5,000,000 deliveries: 0 lost, 0 duplicated, 0 delivered to the wrong user',
    );
    expect(page).toContain(
      '- instance a: RSS 1.25 MiB an hour after warm-up, the live heap 0.50 MiB an hour; ' +
        'consumer lag 0.0 records a minute, 0 at the end',
    );
    expect(page).toContain(
      '- instance b: RSS 2.00 MiB an hour after warm-up; consumer lag 0.0 records a minute, 0 at the end',
    );
    expect(page).toContain(
      '`npm run soak` ran the production build (`node --max-semi-space-size=32 --max-old-space-size=416`) for 60 minutes',
    );
    expect(page).toContain('](soak.svg)');
  });

  it('should tell the long absence: what came back, how fast, what was lost, what Kafka read', () => {
    const page = performanceDoc({
      params: { mode: 'full', streams: 10_000 },
      absence: {
        streams: 10_000,
        absentRecords: 600_000,
        absenceS: 600,
        replayMaxBytes: 4 * 2 ** 20,
        openSeconds: 9.5,
        refusedOpens: 3_000,
        caughtUpSeconds: 20,
        liveSeconds: 21,
        lost: 0,
        duplicated: 0,
        misdelivered: 0,
        resets: 0,
        gatewayCpuSeconds: 15,
        peakRssBytes: 600 * 2 ** 20,
        scannedPerRecord: 2.5,
        catchUpsStarted: 3,
        catchUpsJoined: 29_997,
        warmStart: { readySeconds: 12 },
      },
    });

    expect(page).toContain(
      '**Long absence.** 10,000 streams leave; 10 minutes of targeted traffic (600,000 records',
    );
    expect(page).toContain('a replay store of 4.0 MiB');
    expect(page).toContain('0 lost, 0 duplicated, 0 misdelivered, 0 resets');
    expect(page).toContain('read 2.50 records from Kafka per record of the absence');
    expect(page).toContain('ready after 12.0 s');
  });

  it('should say how to get figures when there is no result', () => {
    expect(performanceDoc(undefined)).toContain('No benchmark result yet: run `npm run bench`');
  });

  it('should name neither the run’s date nor its git revision', () => {
    const result = newestStandardRun()?.data as
      { startedAt?: string; git?: { revision?: string } } | undefined;
    const page = performanceDoc(result);

    expect(page).not.toMatch(/\b20\d\d-\d\d-\d\d/);
    if (result?.git?.revision) expect(page).not.toContain(result.git.revision);
  });

  it('should copy the soak chart without the time of its run', () => {
    expect(undated('<text>kafka-sse-gateway soak, 2026-12-07T22:11:30.123Z: passed</text>')).toBe(
      '<text>kafka-sse-gateway soak: passed</text>',
    );
  });
});
