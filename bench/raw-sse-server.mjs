// @ts-check
/**
 * The floor the gateway is measured against: the least a Node process can do to turn the same
 * Kafka records into the same SSE streams. Plain `node:http`, no framework, no Observables:
 *
 *   - GET /events with `Authorization: Bearer <HS256 JWT>` (verified with node:crypto, so the floor
 *     pays for authentication too) opens a stream for the token's `sub`;
 *   - a kafkajs consumer (own group, from the latest offset, `eachBatch` like the gateway's
 *     transport) parses each record against the same contract (`type`, `data`, one of `userId`, `userIds`,
 *     `broadcast`), formats the SSE frame ONCE and writes it to the addressed response(s);
 *   - one timer sends a heartbeat comment to every stream every SSE_HEARTBEAT_MS;
 *   - a response with more than 256 KiB unwritten is dropped (the gateway's slow-client rule).
 *
 * What it leaves out, deliberately: resume ids and replay buffer, per-stream timers, topic
 * selection, token expiry, graceful drain. Its frames carry a short id (`topic/partition/offset`).
 *
 * Environment: KAFKA_BROKERS, KAFKA_TOPICS, JWT_SECRET, HOST, PORT, SSE_HEARTBEAT_MS. Prints
 * "Listening on http://host:port, topics: …" when up; GET /health/ready answers 200 once the
 * consumer is in its group and has fetched.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';
import { verifyHs256 } from './harness/jwt.mjs';

const { Kafka, logLevel } = kafkajs;
const SLOW_CLIENT_MAX_PENDING = 256 * 1024;

const env = process.env;
const brokers = (env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
const topics = (env.KAFKA_TOPICS ?? '').split(',').filter(Boolean);
const secret = env.JWT_SECRET ?? '';
const heartbeatMs = Number(env.SSE_HEARTBEAT_MS ?? 15_000);
if (brokers.length === 0 || topics.length === 0 || secret.length < 32) {
  console.error('raw-sse-server needs KAFKA_BROKERS, KAFKA_TOPICS and a JWT_SECRET of 32+ characters');
  process.exit(1);
}

/** @type {Set<http.ServerResponse>} */
const all = new Set();
/** @type {Map<string, Set<http.ServerResponse>>} */
const byUser = new Map();
let joined = false;
let fetched = false;

/** @param {http.ServerResponse} response @param {string} frame */
function write(response, frame) {
  if (response.writableLength > SLOW_CLIENT_MAX_PENDING) {
    response.destroy();
    return;
  }
  response.write(frame);
}

/**
 * @param {string} userId
 * @param {http.ServerResponse} response
 */
function subscribe(userId, response) {
  all.add(response);
  let set = byUser.get(userId);
  if (!set) byUser.set(userId, (set = new Set()));
  set.add(response);
  response.once('close', () => {
    all.delete(response);
    set.delete(response);
    if (set.size === 0) byUser.delete(userId);
  });
}

const server = http.createServer((request, response) => {
  const path = (request.url ?? '/').split('?')[0];
  if (path === '/health/ready' || path === '/health/live') {
    const ready = path === '/health/live' || (joined && fetched);
    response.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ status: ready ? 'ready' : 'not-ready' }));
    return;
  }
  if (path !== '/events' || request.method !== 'GET') {
    response.writeHead(404).end();
    return;
  }
  const header = request.headers.authorization ?? '';
  const userId = /^bearer /i.test(header) ? verifyHs256(secret, header.slice(7).trim()) : undefined;
  if (userId === undefined) {
    response.writeHead(401).end();
    return;
  }
  request.socket.setNoDelay(true);
  request.socket.setTimeout(0);
  response.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache, no-store',
    connection: 'keep-alive',
  });
  response.write(': open\n\n');
  subscribe(userId, response);
});
server.keepAliveTimeout = 0;
server.requestTimeout = 0;
server.headersTimeout = 60_000;

const heartbeat = setInterval(() => {
  for (const response of all) write(response, ': \n\n');
}, heartbeatMs);
heartbeat.unref();

/**
 * The record contract, checked as far as routing needs; an invalid record is skipped.
 * @param {Buffer | null} value
 * @returns {{ type: string, data: string, userId?: string, userIds?: string[], broadcast?: true } | undefined}
 */
function parse(value) {
  if (!value) return undefined;
  try {
    /** @type {unknown} */
    const parsed = JSON.parse(value.toString('utf8'));
    if (!parsed || typeof parsed !== 'object') return undefined;
    const record = /** @type {Record<string, unknown>} */ (parsed);
    if (typeof record.type !== 'string' || !('data' in record)) return undefined;
    const data = JSON.stringify(record.data);
    if (typeof record.userId === 'string') return { type: record.type, data, userId: record.userId };
    if (Array.isArray(record.userIds))
      return { type: record.type, data, userIds: record.userIds.filter((id) => typeof id === 'string') };
    if (record.broadcast === true) return { type: record.type, data, broadcast: true };
    return undefined;
  } catch {
    return undefined;
  }
}

/** @param {string} topic @param {number} partition @param {string} offset @param {Buffer | null} value */
function route(topic, partition, offset, value) {
  const event = parse(value);
  if (!event) return;
  const frame = `event: ${event.type}\nid: ${topic}/${partition}/${offset}\ndata: ${event.data}\n\n`;
  if (event.broadcast) {
    for (const response of all) write(response, frame);
  } else if (event.userId !== undefined) {
    const set = byUser.get(event.userId);
    if (set) for (const response of set) write(response, frame);
  } else if (event.userIds) {
    for (const userId of new Set(event.userIds)) {
      const set = byUser.get(userId);
      if (set) for (const response of set) write(response, frame);
    }
  }
}

const kafka = new Kafka({ brokers, clientId: 'bench-raw-sse', logLevel: logLevel.WARN });
const consumer = kafka.consumer({
  groupId: `bench-raw-sse.${randomBytes(4).toString('hex')}`,
  maxWaitTimeInMs: 1000, // as the gateway's
});
consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
consumer.on(consumer.events.FETCH, () => (fetched = true));

async function main() {
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: false });
  await consumer.run({
    autoCommit: false,
    eachBatch: ({ batch }) => {
      for (const message of batch.messages)
        route(batch.topic, batch.partition, message.offset, message.value);
      return Promise.resolve();
    },
  });
  const host = env.HOST ?? '127.0.0.1';
  await new Promise((listening) => server.listen(Number(env.PORT ?? 0), host, () => listening(undefined)));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(`Listening on http://${host}:${port}, topics: ${topics.join(', ')}`);
}

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(1), 10_000).unref();
  for (const response of all) response.destroy();
  server.close();
  await consumer.disconnect().catch(() => undefined);
  process.exit(0);
}
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
