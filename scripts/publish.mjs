// @ts-check
/**
 * `npm run publish -- --user alice --type hello --data '{"x":1}'`
 * Addressing: --user ID, --users ID,ID or --broadcast. Also --topic (default: the first of
 * KAFKA_TOPICS) and --key (default: the user id). Brokers: KAFKA_BROKERS, or the running demo's.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import kafkajs from 'kafkajs';
import { splitList } from './kafka-topics.mjs';

const demoState = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), '.cache', 'demo.json');

function fail(/** @type {string} */ message) {
  console.error(message);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    user: { type: 'string' },
    users: { type: 'string' },
    broadcast: { type: 'boolean' },
    type: { type: 'string', default: 'notification' },
    data: { type: 'string', default: 'null' },
    topic: { type: 'string' },
    key: { type: 'string' },
  },
});

const demo = existsSync(demoState)
  ? /** @type {{ brokers?: string; topics?: string[] }} */ (JSON.parse(readFileSync(demoState, 'utf8')))
  : undefined;
const brokers = splitList(process.env.KAFKA_BROKERS ?? demo?.brokers);
if (brokers.length === 0) fail('No Kafka: set KAFKA_BROKERS, or start `npm run demo` first.');
const topic = values.topic ?? splitList(process.env.KAFKA_TOPICS)[0] ?? demo?.topics?.[0] ?? 'notifications';

const addressing = [
  values.user !== undefined && { userId: values.user },
  values.users !== undefined && { userIds: splitList(values.users) },
  values.broadcast && { broadcast: true },
].filter(Boolean);
if (addressing.length !== 1) fail('Say who the event is for: exactly one of --user, --users or --broadcast.');

/** @type {unknown} */
let data;
try {
  data = JSON.parse(values.data ?? 'null');
} catch {
  fail('--data must be JSON');
}

const record = { type: values.type, data, ...addressing[0] };
const kafka = new kafkajs.Kafka({
  brokers,
  clientId: 'kafka-sse-gateway-publish',
  logLevel: kafkajs.logLevel.WARN,
});
const producer = kafka.producer();
await producer.connect();
const [sent] = await producer.send({
  topic,
  messages: [{ key: values.key ?? values.user ?? null, value: JSON.stringify(record) }],
});
await producer.disconnect();
console.log(`Published ${JSON.stringify(record)} to ${topic}/${sent?.partition}/${sent?.baseOffset}`);
