import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { waitFor } from './support/wait-for.js';

const MAIN = 'dist/main.js';

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Runs the production build (`npm run build`) the way `npm start` does. */
function start(env: Record<string, string>): { done: Promise<Run>; output: () => string; stop: () => void } {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env } });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const done = new Promise<Run>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, output })),
  );
  return { done, output: () => output, stop: () => child.kill('SIGTERM') };
}

describe('The production build (e2e)', () => {
  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: npm test builds it first (npm run build)`);
  });

  it('should refuse bad configuration with one message naming every problem', async () => {
    const { done } = start({ KAFKA_BROKERS: 'localhost', KAFKA_TOPICS: 'bad topic!', PORT: '99999' });
    const { code, output } = await done;

    expect(code).toBe(1);
    expect(output.trim().split('\n')).toEqual([
      'Invalid configuration:',
      '  - PORT: Too big: expected number to be <=65535',
      '  - KAFKA_BROKERS.0: each broker must be host:port',
      '  - KAFKA_TOPICS.0: topic names use only letters, digits, ".", "_" and "-"',
      '  - JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL: set exactly one of them to verify tokens',
    ]);
  });

  it('should start, answer its probes, and stop on SIGTERM within the shutdown bound', async () => {
    const app = start({
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
      KAFKA_TOPICS: 'notifications',
      JWT_SECRET: 'a-production-build-secret-of-32-bytes!',
      HOST: '127.0.0.1',
      PORT: '0',
    });
    const url = await waitFor(
      () => /Listening on (http:\/\/\S+),/.exec(app.output())?.[1],
      'the gateway to listen',
    );
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    await waitFor(async () => (await fetch(`${url}/health/ready`)).status === 200, 'readiness');

    const beforeStop = app.output().length;
    app.stop();
    const { signal, output } = await app.done;
    // Nest closes the app, then re-raises the signal, so the process ends by it, as is customary.
    expect(signal).toBe('SIGTERM');
    expect(output.slice(beforeStop)).not.toMatch(/Shutdown took longer|ERROR/);
  }, 60_000);
});
