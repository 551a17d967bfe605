import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MAIN = 'dist/main.js';
const DEADLINE_MS = 330_000;

/** What the test reads of bench/results/soak-<time>.json. */
interface SoakResults {
  kind: string;
  passed: boolean;
  reasons: string[];
  chart: string;
  deliveries: Record<'streams' | 'expected' | 'received' | 'lost' | 'skippedByReset', number>;
  produced: Record<'targeted' | 'userIds' | 'broadcast' | 'slow', number>;
  restart: { bReadyS: number; aStoppedS: number };
  clients: { serverCloses: number; plannedReconnects: number };
  samples: Array<{ instance: string; rssBytes: number; loopP99Ms: number; streamsOpen: number }>;
  trends: Array<{ instance: string }>;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** `npm run soak` without the build (the suite built dist already): two minutes, 500 streams, into `resultsDir`. */
function runShortSoak(resultsDir: string): Promise<Run> {
  const child = spawn(process.execPath, ['bench/soak.mjs'], {
    env: {
      PATH: process.env.PATH ?? '',
      SOAK_MINUTES: '2',
      SOAK_STREAMS: '500',
      // Short enough that each instance warms up well inside its minute.
      SOAK_REPLAY_WINDOW_S: '20',
      BENCH_RESULTS_DIR: resultsDir,
      BENCH_WORK_DIR: join(resultsDir, 'work'),
      // Below the test's own deadline, so the soak stops everything it started by itself.
      BENCH_TIMEOUT_S: String(DEADLINE_MS / 1000 - 20),
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
    },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise<Run>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, output })),
  );
}

describe('The soak, two minutes of it (e2e)', () => {
  let resultsDir: string;

  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: npm test builds it first (npm run build)`);
    resultsDir = mkdtempSync(join(tmpdir(), 'soak-'));
  });

  afterAll(() => rmSync(resultsDir, { recursive: true, force: true }));

  it(
    'should deliver every numbered event once across reconnects, slow readers and a restart, and chart it',
    async () => {
      const run = await runShortSoak(resultsDir);
      if (run.code !== 0)
        throw new Error(`bench/soak.mjs exited with ${run.code ?? run.signal}:\n${run.output.slice(-4000)}`);
      expect(run.output.trimEnd().split('\n').at(-1)).toMatch(/^soak passed: /);

      const files = readdirSync(resultsDir);
      const json = files.filter((file) => /^soak-.*\.json$/.test(file));
      expect(json).toHaveLength(1);
      expect(files).toContain(json[0]!.replace(/\.json$/, '.svg'));
      const results = JSON.parse(readFileSync(join(resultsDir, json[0]!), 'utf8')) as SoakResults;
      const svg = readFileSync(join(resultsDir, results.chart), 'utf8');

      expect(results).toMatchObject({ kind: 'soak', passed: true, reasons: [] });
      expect(results.deliveries).toMatchObject({
        streams: 500,
        lost: 0,
        duplicates: 0,
        misdelivered: 0,
        unexpected: 0,
      });
      expect(results.deliveries.received).toBe(
        results.deliveries.expected - results.deliveries.skippedByReset,
      );
      expect(results.deliveries.expected).toBeGreaterThan(10_000);
      expect(Math.min(...Object.values(results.produced))).toBeGreaterThan(0);
      // The roll-over happened: A ended its streams, and every stream is on B at the end.
      expect(results.restart.aStoppedS).toBeGreaterThan(results.restart.bReadyS);
      expect(results.clients.serverCloses).toBeGreaterThan(0);
      expect(results.clients.plannedReconnects).toBeGreaterThan(0);
      expect(new Set(results.samples.map((sample) => sample.instance))).toEqual(new Set(['A', 'B']));
      expect(results.samples.filter((sample) => sample.instance === 'B').at(-1)?.streamsOpen).toBe(500);
      for (const sample of results.samples) {
        expect(sample.rssBytes).toBeGreaterThan(0);
        expect(Number.isFinite(sample.loopP99Ms)).toBe(true);
        expect(sample.streamsOpen).toBeGreaterThanOrEqual(0);
      }
      expect(results.trends.map((trend) => trend.instance)).toEqual(['A', 'B']);
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      expect(svg.match(/<polyline/g)!.length).toBeGreaterThanOrEqual(8);
    },
    DEADLINE_MS,
  );
});
