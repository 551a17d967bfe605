// @ts-check
/**
 * `npm run publish -- --user alice --type hello --data '{"x":1}'`: one event written to Kafka, as
 * a backend service would, after the gateway's own contract check.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import kafkajs from 'kafkajs';
import { commandLine, fail } from './command-line.mjs';
import { runningDemo } from './demo-state.mjs';
import { splitList } from './kafka-topics.mjs';

const USAGE = `
Usage: npm run publish -- (--user ID | --users ID,ID | --broadcast) [--type TYPE] [--data JSON]
                          [--topic TOPIC] [--key KEY]

Writes one event to Kafka, as a backend service would; the gateway delivers it to the streams
of the users it names. Kafka: KAFKA_BROKERS, or else the running npm run demo's.

  --user ID        for one user
  --users ID,ID    for several users
  --broadcast      for every user reading the topic
  --type TYPE      the SSE event name (default: notification)
  --data JSON      the event's data, any JSON (default: null)
  --topic TOPIC    default: the first of KAFKA_TOPICS, or the demo's
  --key KEY        the record key (default: the user id)

Example: npm run publish -- --user alice --type order.created --data '{"orderId":"o-17"}'
`;

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The gateway's own contract check, from the build (`npm run build`; the demo builds it). */
const CONTRACT = join(projectRoot, 'dist', 'publish', 'record-contract.js');

const options = commandLine(
  {
    user: { type: 'string' },
    users: { type: 'string' },
    broadcast: { type: 'boolean' },
    type: { type: 'string', default: 'notification' },
    data: { type: 'string', default: 'null' },
    topic: { type: 'string' },
    key: { type: 'string' },
  },
  USAGE,
);

const addressing = [
  options.user !== undefined && { userId: options.user },
  options.users !== undefined && { userIds: splitList(options.users) },
  options.broadcast && { broadcast: true },
].filter(Boolean);
if (addressing.length !== 1) fail('Say who the event is for: exactly one of --user, --users or --broadcast.');

/** @type {unknown} */
let data;
try {
  data = JSON.parse(options.data ?? 'null');
} catch {
  fail(`--data must be JSON, e.g. --data '{"x":1}' or --data '"text"'`);
}
const event = { type: options.type, data, ...addressing[0] };

if (!existsSync(CONTRACT))
  fail('Build the gateway first (npm run build): publish checks events with its code.', 1);
const loaded = /** @type {unknown} */ (await import(pathToFileURL(CONTRACT).href));
const contract = /** @type {{ contractProblem: (event: unknown) => string | undefined }} */ (loaded);
// The gateway's fix of kafkajs's request queue: no TimeoutNegativeWarning on Node 23 and later.
await import(pathToFileURL(join(projectRoot, 'dist', 'kafka', 'request-queue.patch.js')).href);
const problem = contract.contractProblem(event);
if (problem) fail(`The gateway would not deliver this event: ${problem}.`);

let demo;
try {
  demo = runningDemo();
} catch (err) {
  fail(/** @type {Error} */ (err).message);
}
const brokers = splitList(process.env.KAFKA_BROKERS ?? demo?.brokers);
if (brokers.length === 0) fail('No Kafka to write to: start `npm run demo` first, or set KAFKA_BROKERS.', 1);
const topic = options.topic ?? splitList(process.env.KAFKA_TOPICS)[0] ?? demo?.topics[0] ?? 'notifications';
const where = `${brokers.join(',')} (${process.env.KAFKA_BROKERS ? 'KAFKA_BROKERS' : 'the running demo'})`;

const kafka = new kafkajs.Kafka({
  brokers,
  clientId: 'kafka-sse-gateway-publish',
  logLevel: kafkajs.logLevel.NOTHING,
  connectionTimeout: 3000,
  retry: { retries: 1, initialRetryTime: 300 },
});
const admin = kafka.admin();
// The gateway's partitioner: murmur2 over the key, as Java producers and POST /events place records.
const producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
/** @type {string[]} */
let topics = [];
try {
  await admin.connect();
  topics = (await admin.listTopics()).filter((name) => !name.startsWith('__')).sort();
} catch (err) {
  await admin.disconnect().catch(() => undefined);
  fail(`Kafka is unreachable at ${where}: ${/** @type {Error} */ (err).message}`, 1);
}
await admin.disconnect().catch(() => undefined);
if (!topics.includes(topic)) {
  fail(`Topic ${topic} does not exist in Kafka at ${where}. Topics there: ${topics.join(', ') || 'none'}.`);
}
try {
  await producer.connect();
  const [sent] = await producer.send({
    topic,
    messages: [{ key: options.key ?? options.user ?? null, value: JSON.stringify(event) }],
  });
  const to = options.broadcast ? 'everyone' : (options.user ?? options.users);
  console.log(`Published ${event.type} for ${to} to ${topic}/${sent?.partition}/${sent?.baseOffset}`);
} catch (err) {
  fail(`Kafka did not take the event (${where}): ${/** @type {Error} */ (err).message}`, 1);
} finally {
  await producer.disconnect().catch(() => undefined);
}
