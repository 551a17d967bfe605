import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { TestStream } from './support/sse-client.js';
import { waitFor } from './support/wait-for.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The processes whose parent is `pid` (Linux). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        // The field after the command name, which is in parentheses and may hold spaces.
        return Number(readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

interface Started {
  child: ChildProcess;
  output(): string;
  exit: Promise<number | null>;
}

/** A command in a process group of its own, as a terminal runs it: Ctrl-C reaches the whole group. */
function start(command: string, args: string[], env: Record<string, string>): Started {
  const child = spawn(command, args, { env: { ...process.env, ...env }, detached: true });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exit };
}

/**
 * `npm run demo` as a person runs it: on its own embedded Kafka, with the commands its banner
 * prints, a second run started by mistake, and Ctrl-C.
 */
describe('npm run demo (e2e)', () => {
  let port: number;
  let demo: Started;
  const stateFile = () => `.cache/demo/${port}.json`;

  beforeAll(async () => {
    port = await freePort();
    // dist/ is built by npm test; the demo's own build is the part this suite does not repeat.
    // Without KAFKA_BROKERS: its own embedded broker, in a process group of its own.
    const { KAFKA_BROKERS: _suiteBroker, ...env } = process.env;
    demo = start(process.execPath, ['scripts/demo.mjs', '--no-build'], {
      ...(env as Record<string, string>),
      KAFKA_BROKERS: '',
      PORT: String(port),
      LOG_FORMAT: 'json',
    });
    await waitFor(() => demo.output().includes('Ctrl-C stops the demo'), 'the demo to be ready', 120_000);
  }, 150_000);

  afterAll(() => {
    if (demo.child.exitCode !== null) return;
    // Its gateway and its Kafka run in process groups of their own: they go too.
    for (const pid of [...childrenOf(demo.child.pid!), demo.child.pid!]) process.kill(-pid, 'SIGKILL');
  });

  const kafkaPort = () =>
    Number(/"brokers":"127\.0\.0\.1:(\d+)"/.exec(readFileSync(stateFile(), 'utf8'))![1]);

  it('should print a publisher token that POST /events takes, and commands that reach the page', async () => {
    const publisher = /export PUBLISHER_TOKEN=(\S+)/.exec(demo.output())![1]!;
    const token = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, ['scripts/token.mjs', '--user', 'alice'], {
        env: { PATH: process.env.PATH ?? '', PORT: String(port) },
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.once('exit', () => resolve(out.trim()));
    });
    const stream = new TestStream(`http://127.0.0.1:${port}/events`, {
      headers: { authorization: `Bearer ${token}` },
      types: ['hello'],
    });
    try {
      await stream.waitForOpen();

      const response = await fetch(`http://127.0.0.1:${port}/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${publisher}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'hello', data: { x: 1 }, userId: 'alice' }),
      });

      expect(response.status).toBe(201);
      expect((await stream.waitForEvent((event) => event.type === 'hello')).data).toEqual({ x: 1 });
    } finally {
      stream.close();
    }
  });

  it('should refuse a second run on the same port before building, leaving the first one’s state alone', async () => {
    const built = statSync('dist/main.js').mtimeMs;
    const state = readFileSync(stateFile(), 'utf8');

    const second = start('npm', ['run', 'demo'], { PORT: String(port) });

    expect(await second.exit).toBe(1);
    expect(second.output()).toContain(
      `Port ${port} is in use, perhaps by another npm run demo: stop it, or run this one with PORT=${port + 1}.`,
    );
    expect(second.output()).not.toContain('nest build');
    expect(statSync('dist/main.js').mtimeMs).toBe(built);
    expect(readFileSync(stateFile(), 'utf8')).toBe(state);
  });

  it('should stop everything, its Kafka too, within 2 s of Ctrl-C', async () => {
    const broker = kafkaPort();
    expect(await answers(broker)).toBe(true);
    const stopped = Date.now();

    process.kill(-demo.child.pid!, 'SIGINT');

    await waitFor(() => demo.child.exitCode !== null, 'the demo to exit', 2000).catch((err: Error) => {
      const alive = childrenOf(demo.child.pid!).map((pid) =>
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').slice(0, 60),
      );
      throw new Error(
        `${err.message}; children ${JSON.stringify(alive)} it said:\n${demo.output().slice(-1000)}`,
      );
    });
    expect(Date.now() - stopped).toBeLessThan(2000);
    expect(await demo.exit).toBe(0);
    expect(demo.output()).not.toMatch(/Shutdown took longer/);
    expect(existsSync(stateFile())).toBe(false);
    expect(await answers(broker)).toBe(false);
    expect(await answers(port)).toBe(false);
  });
});
