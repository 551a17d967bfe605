// @ts-check
/**
 * The gateway's record path in one process, without Kafka or sockets: decoded records go through
 * InboundRecordService → EventBusService (log positions, replay store, routing) → each
 * StreamConnection and its SseWriter, flushed once per turn to a response that only counts what
 * it is given. Beside it, the raw floor's path on the same records (parse, frame, write). What is
 * left of the gap between the two is the gateway's own code; the rest of `npm run bench`'s
 * figures is kafkajs, the kernel and the clients, which both pay alike.
 *
 *   npm run build && node --max-semi-space-size=32 bench/record-path.mjs [--records 600000] [--streams 10000]
 *
 * Prints CPU and wall time per record for each path, best of `--rounds` (3). Not a test: it
 * asserts nothing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { productionNodeFlags } from '../scripts/node-flags.mjs';
import { projectRoot } from './harness/processes.mjs';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '600000' },
    streams: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '3' },
  },
});
const RECORDS_PER_BATCH = 7000;
const PARTITIONS = 3;
const TOPIC = 'bench';
const streams = Number(values.streams);
const batches = Math.max(PARTITIONS, Math.round(Number(values.records) / RECORDS_PER_BATCH));
const rounds = Number(values.rounds);

/**
 * A module of the production build, typed as its source.
 * @template T
 * @param {string} path under src/ and dist/, ending in .js
 * @returns {Promise<T>}
 */
async function built(path) {
  const file = join(projectRoot, 'dist', path);
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
  /** @type {unknown} */
  const module = await import(pathToFileURL(file).href);
  return /** @type {T} */ (module);
}

/** @type {typeof import('../src/config/gateway.config.js')} */
const { parseGatewayConfig } = await built('config/gateway.config.js');
/** @type {typeof import('../src/event-bus/event-bus.service.js')} */
const { EventBusService } = await built('event-bus/event-bus.service.js');
/** @type {typeof import('../src/log/partition-log.service.js')} */
const { PartitionLogService } = await built('log/partition-log.service.js');
/** @type {typeof import('../src/ownership/ownership.js')} */
const { EveryInstance } = await built('ownership/ownership.js');
/** @type {typeof import('../src/metrics/metrics.service.js')} */
const { MetricsService } = await built('metrics/metrics.service.js');
/** @type {typeof import('../src/kafka/inbound-record.service.js')} */
const { InboundRecordService } = await built('kafka/inbound-record.service.js');
/** @type {typeof import('../src/sse/flush-scheduler.js')} */
const { FlushScheduler } = await built('sse/flush-scheduler.js');
/** @type {typeof import('../src/sse/sse-frame.js')} */
const { FrameCache } = await built('sse/sse-frame.js');
/** @type {typeof import('../src/stream/resume-plan.js')} */
const { resumeFrom } = await built('stream/resume-plan.js');
/** @type {typeof import('../src/stream/stream-connection.js')} */
const { StreamConnection } = await built('stream/stream-connection.js');
/** @type {typeof import('../src/stream/timer-wheel.js')} */
const { TimerWheel } = await built('stream/timer-wheel.js');

/** A stream's sink that takes everything at once and counts it. */
class CountingResponse {
  writableLength = 0;
  characters = 0;
  writes = 0;
  /** @param {string} chunk */
  write(chunk) {
    this.characters += chunk.length;
    this.writes++;
    return true;
  }
  open() {}
  once() {}
  removeListener() {}
  end() {}
  destroy() {}
}

/**
 * Batches as kafkajs hands them over: the bench's targeted records, users in turn.
 * @returns {import('../src/kafka/consumed-batch.js').ConsumedBatch[]}
 */
function makeBatches() {
  const next = Array.from({ length: PARTITIONS }, () => 0);
  let seq = 0;
  const made = [];
  for (let b = 0; b < batches; b++) {
    const partition = b % PARTITIONS;
    const fetchedOffset = next[partition] ?? 0;
    const messages = [];
    for (let i = 0; i < RECORDS_PER_BATCH; i++) {
      const value = Buffer.from(
        JSON.stringify({
          type: 'bench.targeted',
          userId: `u${seq % streams}`,
          data: { seq, sentAt: 1764806400000.123, pad: 'x'.repeat(40) },
        }),
      );
      seq++;
      messages.push({
        offset: String(fetchedOffset + i),
        value,
        key: null,
        timestamp: String(Date.now()),
        attributes: 0,
        headers: {},
      });
    }
    next[partition] = fetchedOffset + RECORDS_PER_BATCH;
    made.push({
      topic: TOPIC,
      partition,
      fetchedOffset,
      highWatermark: fetchedOffset + RECORDS_PER_BATCH,
      next: fetchedOffset + RECORDS_PER_BATCH,
      offsetReset: false,
      records: messages,
    });
  }
  return made;
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs `pass` over every batch, one turn of the event loop per fetch of PARTITIONS batches.
 * @param {import('../src/kafka/consumed-batch.js').ConsumedBatch[]} all
 * @param {(batch: import('../src/kafka/consumed-batch.js').ConsumedBatch) => void} pass
 */
async function timed(all, pass) {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  for (let b = 0; b < all.length; b++) {
    pass(/** @type {import('../src/kafka/consumed-batch.js').ConsumedBatch} */ (all[b]));
    if (b % PARTITIONS === PARTITIONS - 1) await turn();
  }
  await turn();
  const used = process.cpuUsage(cpu);
  const records = all.length * RECORDS_PER_BATCH;
  return {
    cpuNs: ((used.user + used.system) * 1000) / records,
    wallNs: ((performance.now() - wall) * 1e6) / records,
  };
}

async function gatewayRound() {
  const config = parseGatewayConfig({
    KAFKA_BROKERS: '127.0.0.1:9092',
    KAFKA_TOPICS: TOPIC,
    JWT_SECRET: 'x'.repeat(32),
    JWT_AUDIENCE: 'bench',
  });
  const metrics = new MetricsService();
  const log = new PartitionLogService(config, metrics);
  const bus = new EventBusService(log);
  for (let partition = 0; partition < PARTITIONS; partition++) log.startPartition(TOPIC, partition, 0, 0);
  const deadLetters = /** @type {import('../src/kafka/dead-letter.service.js').DeadLetterService} */ (
    /** @type {unknown} */ ({ copy() {} })
  );
  const inbound = new InboundRecordService(config, log, metrics, deadLetters, new EveryInstance([TOPIC]));
  const wheel = new TimerWheel(250);
  const owner = {
    hub: bus,
    log,
    wheel,
    resumeScope: () => () => true,
    opened() {},
    resumed() {},
    frames: new FrameCache(),
    flushes: new FlushScheduler(),
    closed() {},
    settings: {
      configuredTopics: [TOPIC],
      heartbeatMs: 15_000,
      retryMs: 2000,
      maxLifetimeMs: 3_600_000,
      slowClientMaxPending: 256 * 1024,
      logEndRefreshMs: 5000,
    },
  };
  /** @type {CountingResponse[]} */
  const responses = [];
  for (let i = 0; i < streams; i++) {
    const response = new CountingResponse();
    responses.push(response);
    const user = { id: `u${i}`, topics: undefined, expiresAt: Date.now() + 3_600_000 };
    const ids = { connectionId: `c${i}`, requestId: `r${i}` };
    new StreamConnection(owner, user, bus.topicSet([TOPIC]), response, resumeFrom(undefined), ids).start();
  }
  const all = makeBatches();
  await turn();
  const figures = await timed(all, (batch) => inbound.takeBatch(batch));
  wheel.stop();
  const writes = responses.reduce((sum, response) => sum + response.writes, 0);
  return { ...figures, writesPerRecord: writes / (all.length * RECORDS_PER_BATCH) };
}

async function rawRound() {
  /** @type {Map<string, CountingResponse>} */
  const byUser = new Map();
  for (let i = 0; i < streams; i++) byUser.set(`u${i}`, new CountingResponse());
  const all = makeBatches();
  await turn();
  return timed(all, (batch) => {
    for (const message of batch.records) {
      /** @type {unknown} */
      const parsed = JSON.parse(/** @type {Buffer} */ (message.value).toString('utf8'));
      const record = /** @type {{ type: string, userId: string, data: unknown }} */ (parsed);
      const data = JSON.stringify(record.data);
      const frame = `event: ${record.type}\nid: ${batch.topic}/${batch.partition}/${message.offset}\ndata: ${data}\n\n`;
      const response = byUser.get(record.userId);
      if (response && response.writableLength <= 256 * 1024) response.write(frame);
    }
  });
}

/** @param {{ cpuNs: number, wallNs: number }[]} results */
const best = (results) => results.reduce((a, b) => (b.cpuNs < a.cpuNs ? b : a));
const flags = productionNodeFlags();
if (flags.some((flag) => !process.execArgv.includes(flag))) {
  console.log(`note: npm start runs node with ${flags.join(' ')}; this process does not`);
}
const gateway = [];
const raw = [];
for (let round = 0; round < rounds; round++) {
  gateway.push(await gatewayRound());
  raw.push(await rawRound());
}
const g = best(gateway);
const r = best(raw);
const line = (/** @type {string} */ name, /** @type {{ cpuNs: number, wallNs: number }} */ x) =>
  `${name.padEnd(9)} ${(x.cpuNs / 1000).toFixed(2)} µs CPU, ${(x.wallNs / 1000).toFixed(2)} µs wall per record`;
console.log(
  `${batches * RECORDS_PER_BATCH} records over ${streams} streams, best of ${rounds}, node ${process.version} ${process.execArgv.join(' ')}`,
);
console.log(line('gateway', g));
console.log(line('raw path', r));
console.log(
  `gateway ÷ raw: ${(g.cpuNs / r.cpuNs).toFixed(2)}× CPU; gateway writes per record ${gateway[0]?.writesPerRecord.toFixed(2)}`,
);
