// @ts-check
/**
 * `npm run demo`: the gateway on a local embedded Kafka (unless KAFKA_BROKERS names one), with the
 * demo page and its sign-in switched on.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandLine, fail } from './command-line.mjs';
import { removeOwnDemoState, writeDemoState } from './demo-state.mjs';
import { EmbeddedKafka, KAFKA_VERSION } from './embedded-kafka.mjs';
import { ensureTopics, splitList } from './kafka-topics.mjs';
import { productionNodeFlags } from './node-flags.mjs';
import { signAccessToken } from './token.mjs';

const USAGE = `
Usage: npm run demo [-- --no-build]

Builds the gateway, starts an embedded Kafka (unless KAFKA_BROKERS names one), creates the topics
(KAFKA_TOPICS, default notifications) and runs the gateway with its demo page on PORT (3000).
Ctrl-C stops everything.

  --no-build   start what dist/ holds, without building it first
`;

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PUBLISHER_TTL_SECONDS = 12 * 3600;

/** Whether something already listens on host:port. @param {number} port @param {string} host */
function portInUse(port, host) {
  return new Promise((done) => {
    const probe = createServer();
    probe.once('error', (err) => done(/** @type {NodeJS.ErrnoException} */ (err).code === 'EADDRINUSE'));
    probe.listen(port, host, () => probe.close(() => done(false)));
  });
}

/** Resolves when the gateway answers on `url`, or rejects when it exits first. */
async function ready(/** @type {string} */ url, /** @type {Promise<unknown>} */ exited) {
  let gone = false;
  void exited.then(() => (gone = true));
  while (!gone) {
    try {
      if ((await fetch(`${url}/health/live`)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((wake) => setTimeout(wake, 200));
  }
  throw new Error('The gateway stopped during start-up (its reason is above).');
}

/** @param {string[]} args @returns {Promise<void>} */
function run(args) {
  return new Promise((done, reject) => {
    const child = spawn('npm', args, { cwd: root, stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? done() : reject(new Error(`npm ${args.join(' ')} failed`))));
  });
}

async function main() {
  const options = commandLine({ 'no-build': { type: 'boolean' } }, USAGE);
  const port = Number(process.env.PORT ?? '3000');
  const host = process.env.HOST ?? '127.0.0.1';
  // Before anything else: a second demo must neither rebuild dist/ under the first nor touch its files.
  if (await portInUse(port, host)) {
    fail(
      `Port ${port} is in use, perhaps by another npm run demo: stop it, or run this one with PORT=${port + 1}.`,
      1,
    );
  }
  if (!options['no-build']) await run(['run', 'build']);

  /** @type {EmbeddedKafka | undefined} */
  let kafka;
  let brokers = process.env.KAFKA_BROKERS;
  if (!brokers) {
    console.log(`Starting an embedded Kafka ${KAFKA_VERSION} (set KAFKA_BROKERS to use your own)…`);
    // In a process group of its own, so Ctrl-C reaches the gateway first, while Kafka still answers.
    kafka = await EmbeddedKafka.start({ ownProcessGroup: true });
    brokers = kafka.brokers.join(',');
  }
  const stopKafka = () => kafka?.stop({ now: true });
  try {
    const topics = splitList(process.env.KAFKA_TOPICS ?? 'notifications');
    await ensureTopics(splitList(brokers), topics);
    const key = {
      secret: process.env.JWT_SECRET ?? randomBytes(32).toString('base64url'),
      // The audience of real tokens (npm run token); the page's own tokens carry one of their own.
      audience: process.env.JWT_AUDIENCE ?? 'kafka-sse-gateway-demo',
      publishClaim: process.env.PUBLISH_CLAIM ?? 'scope',
      publishValue: process.env.PUBLISH_VALUE ?? 'events:publish',
    };
    const env = {
      ...process.env,
      KAFKA_BROKERS: brokers,
      KAFKA_TOPICS: topics.join(','),
      PORT: String(port),
      HOST: host,
      JWT_SECRET: key.secret,
      JWT_AUDIENCE: key.audience,
      // Plain HTTP: a __Host- cookie (the default) needs a secure origin, which not every browser
      // grants localhost.
      AUTH_COOKIE_NAME: process.env.AUTH_COOKIE_NAME ?? 'demo_session',
      // One instance, no load balancer to wait for.
      SHUTDOWN_DELAY_MS: process.env.SHUTDOWN_DELAY_MS ?? '0',
      DEMO_ENABLED: 'true',
      LOG_FORMAT: process.env.LOG_FORMAT ?? 'pretty',
    };
    const url = `http://localhost:${port}`;
    writeDemoState({
      pid: process.pid,
      url,
      port,
      brokers,
      topics,
      jwtSecret: key.secret,
      jwtAudience: key.audience,
      ...key,
    });

    // Run as `npm start` runs it, with its node flags; in a group of its own, so that one Ctrl-C
    // reaches it once, from here.
    const gateway = spawn(process.execPath, [...productionNodeFlags(), join(root, 'dist', 'main.js')], {
      env,
      stdio: 'inherit',
      detached: true,
    });
    const exited = new Promise(
      /** @param {(code: number) => void} done */ (done) =>
        gateway.once('exit', (code, signal) => done(code ?? (signal === 'SIGINT' ? 0 : 1))),
    );
    let signals = 0;
    const stop = (/** @type {NodeJS.Signals} */ signal) => {
      if (++signals === 1) console.log('Stopping the demo…');
      gateway.kill(signals > 1 ? 'SIGKILL' : signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);

    await ready(url, exited);
    const publisher = await signAccessToken(
      { ...key },
      { user: 'demo-publisher', publish: true, ttlSeconds: PUBLISHER_TTL_SECONDS },
    );
    console.log(`
  Demo page:  ${url}/   (sign in as anyone; open a second tab)
  Publish:    npm run publish -- --user alice --type order.created --data '{"orderId":"o-17"}'
  Stream:     TOKEN=$(npm run -s token -- --user alice)
              curl -N -H "Authorization: Bearer $TOKEN" ${url}/events
  Over HTTP:  export PUBLISHER_TOKEN=${publisher}
              curl -X POST ${url}/events -H "Authorization: Bearer $PUBLISHER_TOKEN" -H 'content-type: application/json' \\
                -d '{"type":"hello","data":{"x":1},"userId":"alice"}'
  Ctrl-C stops the demo.
`);
    const code = await exited;
    removeOwnDemoState(port);
    await stopKafka();
    process.exit(code);
  } catch (err) {
    removeOwnDemoState(port);
    await stopKafka();
    throw err;
  }
}

main().catch((err) => fail(err instanceof Error ? err.message : String(err), 1));
