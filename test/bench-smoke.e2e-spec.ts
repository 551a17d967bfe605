import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MAIN = 'dist/main.js';
const DEADLINE_MS = 150_000;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** `npm run bench:smoke` without the build (the suite built dist already), into `resultsDir`. */
function runSmokeBenchmark(resultsDir: string): Promise<Run> {
  const child = spawn(process.execPath, ['bench/run.mjs'], {
    env: {
      PATH: process.env.PATH ?? '',
      BENCH_SMOKE: '1',
      BENCH_RESULTS_DIR: resultsDir,
      // The targets' logs too, so the test leaves nothing behind.
      BENCH_WORK_DIR: join(resultsDir, 'work'),
      // Below the test's own deadline, so the harness stops everything it started by itself.
      BENCH_TIMEOUT_S: String(DEADLINE_MS / 1000 - 15),
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

const SCENARIOS = ['targeted', 'broadcast', 'steady'] as const;

describe('The benchmark harness, smoke mode (e2e)', () => {
  let resultsDir: string;

  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: npm test builds it first (npm run build)`);
    resultsDir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  });

  afterAll(() => rmSync(resultsDir, { recursive: true, force: true }));

  it(
    'should measure the gateway and both floors, and write every figure',
    async () => {
      const run = await runSmokeBenchmark(resultsDir);
      if (run.code !== 0)
        throw new Error(`bench/run.mjs exited with ${run.code ?? run.signal}:\n${run.output.slice(-4000)}`);

      const files = readdirSync(resultsDir);
      const json = files.filter((file) => file.endsWith('.json'));
      expect(json).toHaveLength(1);
      expect(files).toEqual(expect.arrayContaining(['latest.md', json[0]!.replace(/\.json$/, '.md')]));
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const results: any = JSON.parse(readFileSync(join(resultsDir, json[0]!), 'utf8'));

      expect(results.params).toMatchObject({ mode: 'smoke', streams: 200 });
      expect(results.machine.cpus).toBeGreaterThan(0);
      expect(typeof results.git.revision).toBe('string');
      for (const target of [results.gateway, results.floors.rawSse]) {
        expect(target.idle.streams).toBe(200);
        expect(target.idle.connectsPerSecond).toBeGreaterThan(0);
        expect(Number.isFinite(target.idle.rssPerStreamBytes)).toBe(true);
        expect(Number.isFinite(target.idle.heapPerStreamBytes)).toBe(true);
        for (const scenario of SCENARIOS) {
          const figures = target[scenario];
          // The throughput scenarios wait for every event; steady may saturate on a slow machine,
          // and how fast anything is, is not for this test to judge.
          if (scenario !== 'steady')
            expect([scenario, figures.deliveries]).toEqual([scenario, figures.expectedDeliveries]);
          expect(figures.deliveries).toBeGreaterThan(0);
          expect(figures.deliveriesPerSecond).toBeGreaterThan(0);
          expect(figures.latency.p50Ms).toBeGreaterThan(0);
          expect(figures.latency.p99Ms).toBeGreaterThan(0);
          expect(figures.latency.negativeSamples).toBe(0);
        }
        expect(target.streamsClosedByServer).toBe(0);
      }
      expect(results.floors.kafkaConsume.recordsPerSecond).toBeGreaterThan(0);
      expect(results.ratios['broadcast.deliveriesPerSecond']).toBeGreaterThan(0);
    },
    DEADLINE_MS,
  );
});
