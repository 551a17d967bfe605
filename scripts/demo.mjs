// @ts-check
/**
 * `npm run demo`: the gateway on a local embedded Kafka (unless KAFKA_BROKERS names one), with the
 * demo page and its dev token endpoint switched on.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmbeddedKafka, KAFKA_VERSION } from './embedded-kafka.mjs';
import { ensureTopics, splitList } from './kafka-topics.mjs';
import { productionNodeFlags } from './node-flags.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEMO_STATE_FILE = join(root, '.cache', 'demo.json');

async function main() {
  /** @type {EmbeddedKafka | undefined} */
  let kafka;
  let brokers = process.env.KAFKA_BROKERS;
  if (!brokers) {
    console.log(`Starting an embedded Kafka ${KAFKA_VERSION} (set KAFKA_BROKERS to use your own)…`);
    kafka = await EmbeddedKafka.start();
    brokers = kafka.brokers.join(',');
  }
  const topics = splitList(process.env.KAFKA_TOPICS ?? 'notifications');
  await ensureTopics(splitList(brokers), topics);
  const port = process.env.PORT ?? '3000';
  const env = {
    ...process.env,
    KAFKA_BROKERS: brokers,
    KAFKA_TOPICS: topics.join(','),
    PORT: port,
    HOST: process.env.HOST ?? '127.0.0.1',
    JWT_SECRET: process.env.JWT_SECRET ?? randomBytes(32).toString('base64url'),
    // The audience of real tokens; the demo's own tokens carry one of their own.
    JWT_AUDIENCE: process.env.JWT_AUDIENCE ?? 'kafka-sse-gateway-demo',
    // Plain HTTP: a __Host- cookie (the default) needs a secure origin, which not every browser
    // grants localhost.
    AUTH_COOKIE_NAME: process.env.AUTH_COOKIE_NAME ?? 'demo_session',
    // One instance, no load balancer to wait for.
    SHUTDOWN_DELAY_MS: process.env.SHUTDOWN_DELAY_MS ?? '0',
    DEMO_ENABLED: 'true',
    LOG_FORMAT: process.env.LOG_FORMAT ?? 'pretty',
  };
  mkdirSync(dirname(DEMO_STATE_FILE), { recursive: true });
  writeFileSync(DEMO_STATE_FILE, JSON.stringify({ brokers, topics }));

  // Run as `npm start` runs it, with its node flags.
  const gateway = spawn(process.execPath, [...productionNodeFlags(), join(root, 'dist', 'main.js')], {
    env,
    stdio: 'inherit',
  });
  const url = `http://localhost:${port}`;
  console.log(`
  Demo page:  ${url}/
  curl:       TOKEN=$(curl -s -X POST ${url}/demo/token -H 'content-type: application/json' -d '{"user":"alice"}' | sed -E 's/.*"token":"([^"]+)".*/\\1/')
              curl -N -H "Authorization: Bearer $TOKEN" ${url}/events
  Publish:    npm run publish -- --user alice --type hello --data '{"x":1}'
`);
  const stop = (/** @type {NodeJS.Signals} */ signal) => gateway.kill(signal);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const code = await new Promise(
    /** @param {(code: number) => void} done */ (done) =>
      gateway.once('exit', (exitCode) => done(exitCode ?? 0)),
  );
  rmSync(DEMO_STATE_FILE, { force: true });
  await kafka?.stop();
  process.exit(code);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
