import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners, type IHeaders, type Producer } from 'kafkajs';
import { ensureTopics, splitList } from '../scripts/kafka-topics.mjs';
import { INVALID_REASON_HEADER, SOURCE_HEADER } from '../src/kafka/dead-letter.service.js';
import { blockProblem, only, type SseBlock } from './support/sse-parse.js';
import { SseHttpStream } from './support/sse-http-stream.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';
import { TEST_TOPICS } from './support/test-topics.mjs';
import { signToken } from './support/tokens.js';
import { waitFor } from './support/wait-for.js';

/**
 * A few hundred generated records, valid and invalid, produced across every topic-partition to a
 * gateway with a dead-letter topic and open streams: the consumer never stops, every valid record
 * reaches exactly its addressees, every invalid one is counted once and copied to the dead-letter
 * topic as it came, and nothing a record carries can shape the SSE framing.
 */

const SEED = 424_242;
const RECORDS = 500;
const BATCHES = 4;
const MAX_RECORD_BYTES = 4096;
const PARTITIONS = 3;
const brokers = (): string[] => splitList(process.env.KAFKA_BROKERS);

// --- Records ------------------------------------------------------------------------------------

type Addressing = { userId: string } | { userIds: string[] } | { broadcast: true };

interface Outgoing {
  readonly topic: string;
  readonly partition: number;
  readonly value: Buffer | null;
  readonly key?: string | Buffer;
  readonly headers?: IHeaders;
}

interface ValidRecord extends Outgoing {
  readonly kind: 'valid';
  readonly seq: number;
  readonly type: string;
  readonly data: unknown;
  /** Undefined for a broadcast. */
  readonly recipients: ReadonlySet<string> | undefined;
}

interface InvalidRecord extends Outgoing {
  readonly kind: 'invalid';
  readonly why: string;
  /** The reasons the gateway may give; most generators know the one. */
  readonly reasons: readonly string[];
}

type FuzzRecord = ValidRecord | InvalidRecord;

/** Event types that are fine by the contract but awkward on the wire. */
const VALID_TYPES = [
  'notification',
  'order.created',
  'commande.créée',
  '😀',
  '世界.event',
  'a b',
  'x:y',
  'data',
  'id',
  'retry',
  'event',
  'message',
  ' leading-space',
  'trailing-space ',
  '\u00a0nbsp',
  ':colon-first',
  't'.repeat(128),
];

/** Strings for data that would break SSE framing if written raw. */
const FRAMING = [
  '\r\n\r\nevent: forged\r\ndata: {}\r\n\r\n',
  '\nid: 0\n',
  '\rretry: 1\r',
  'a\u2028b\u2029c',
  '\u0000',
  '\u0085',
  'é😀',
];
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];

const text = fc.string({
  unit: fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
    fc.constantFrom(...FRAMING),
  ),
  maxLength: 12,
});

/** JSON text with prototype keys in objects, which JSON.stringify of a literal would drop. */
const { json } = fc.letrec<{ json: string }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small' },
    text.map((value) => JSON.stringify(value)),
    fc.integer().map(String),
    fc.constantFrom('true', 'false', 'null', '1.5e300', '-0.5'),
    fc.array(tie('json'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    fc
      .array(fc.tuple(fc.oneof(fc.constantFrom(...PROTO_KEYS), text), tie('json')), { maxLength: 4 })
      .map((entries) => `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`),
  ),
}));

const utf8 = (value: string): Buffer => Buffer.from(value, 'utf8');
const field = (name: string, value: string) => `${JSON.stringify(name)}:${value}`;

interface Scenario {
  users: readonly string[];
  records: FuzzRecord[];
}

/** Builds the records from fast-check samples with a fixed seed, so a failure can be replayed. */
function scenario(users: readonly string[], strangers: readonly string[]): Scenario {
  const position = fc.record({ topic: fc.constantFrom(...TEST_TOPICS), partition: fc.nat(PARTITIONS - 1) });
  const addressing: fc.Arbitrary<Addressing> = fc.oneof(
    fc.constantFrom(...users, ...strangers).map((userId) => ({ userId })),
    fc
      .array(fc.constantFrom(...users, ...strangers), { minLength: 1, maxLength: 5 })
      .map((userIds) => ({ userIds })),
    fc.constant({ broadcast: true as const }),
  );
  const valid = fc.record({
    type: fc.constantFrom(...VALID_TYPES),
    payload: json,
    addressing,
    extra: fc.option(json),
  });
  const invalidKinds: Array<fc.Arbitrary<{ value: Buffer | null; why: string; reasons: string[] }>> = [
    fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => ({
      value: Buffer.from(bytes),
      why: 'random bytes',
      reasons: ['not-utf8', 'not-json', 'not-object'],
    })),
    fc.constant({ value: null, why: 'a tombstone', reasons: ['tombstone'] }),
    fc.constant({
      value: Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
      why: 'bad UTF-8',
      reasons: ['not-utf8'],
    }),
    json
      .filter((value) => !value.startsWith('{') && Buffer.byteLength(value) <= MAX_RECORD_BYTES)
      .map((value) => ({
        value: utf8(value),
        why: 'JSON that is not an object',
        reasons: ['not-object'],
      })),
    fc.integer({ min: 1, max: 50 }).map((cut) => ({
      value: utf8('{"type":"notification","data":{"a":[1,2,3]},"broadcast":true}'.slice(0, -cut)),
      why: 'truncated JSON',
      reasons: ['not-json'],
    })),
    fc.integer({ min: MAX_RECORD_BYTES, max: 3 * MAX_RECORD_BYTES }).map((length) => ({
      value: utf8(`{"type":"notification","data":"${'x'.repeat(length)}","broadcast":true}`),
      why: 'a record over KAFKA_MAX_RECORD_BYTES',
      reasons: ['too-large'],
    })),
    fc.integer({ min: 2100, max: 20_000 }).map((depth) => ({
      value: utf8(`{"type":"notification","data":${'['.repeat(depth)}${']'.repeat(depth)},"broadcast":true}`),
      why: 'deep JSON over KAFKA_MAX_RECORD_BYTES',
      reasons: ['too-large'],
    })),
    fc
      .record({
        type: fc.constantFrom(
          'a\r\nevent: forged',
          'a\nb',
          'a\rb',
          'a\u2028b',
          '',
          't'.repeat(129),
          'x\u0000',
        ),
        payload: json,
      })
      .map(({ type, payload }) => ({
        value: utf8(`{${field('type', JSON.stringify(type))},${field('data', payload)},"broadcast":true}`),
        why: 'a type with control characters, empty or too long',
        reasons: ['bad-type', 'too-large'],
      })),
    fc.constantFrom('1', 'null', '["notification"]', '{"a":1}', 'true').map((type) => ({
      value: utf8(`{"type":${type},"data":1,"broadcast":true}`),
      why: 'a type of the wrong type',
      reasons: ['bad-type'],
    })),
    fc.constantFrom('error', 'reset', 'open', 'checkpoint').map((type) => ({
      value: utf8(`{"type":"${type}","data":1,"broadcast":true}`),
      why: 'a reserved type',
      reasons: ['reserved-type'],
    })),
    fc.constant({
      value: utf8('{"type":"notification","broadcast":true,"__proto__":{"data":1}}'),
      why: 'data only under __proto__',
      reasons: ['missing-data'],
    }),
    fc
      .constantFrom(
        '',
        `,"__proto__":{"userId":"${users[0]}"}`,
        ',"constructor":{"broadcast":true}',
        ',"broadcast":false',
        ',"broadcast":"true"',
        `,"userId":"${users[0]}","broadcast":true`,
        `,"userId":"${users[0]}","userIds":["${users[1]}"]`,
        ',"userIds":[]',
        `,"userIds":"${users[0]}"`,
      )
      .map((addressing) => ({
        value: utf8(`{"type":"notification","data":{"leak":true}${addressing}}`),
        why: 'no single addressing',
        reasons: ['bad-addressing'],
      })),
    fc.constantFrom('42', 'null', '""', `"${users[0]}\\n"`, `"${'u'.repeat(257)}"`, '["a"]').chain((userId) =>
      fc.constantFrom(`"userId":${userId}`, `"userIds":["${users[0]}",${userId}]`).map((addressing) => ({
        value: utf8(`{"type":"notification","data":{"leak":true},${addressing}}`),
        why: 'a bad user id',
        reasons: ['bad-user-id'],
      })),
    ),
  ];
  const kind = fc.oneof(
    { weight: 9, arbitrary: valid.map((record) => ({ valid: record })) },
    { weight: 11, arbitrary: fc.oneof(...invalidKinds).map((record) => ({ invalid: record })) },
  );
  const samples = fc.sample(fc.tuple(position, kind, fc.option(fc.constantFrom('k1', 'user-key', 'é'))), {
    numRuns: RECORDS,
    seed: SEED,
  });
  let seq = 0;
  const records = samples.map(([{ topic, partition }, generated, key]): FuzzRecord => {
    const keyed = key === null ? {} : { key };
    if ('invalid' in generated) return { kind: 'invalid', topic, partition, ...keyed, ...generated.invalid };
    const { type, payload, addressing, extra } = generated.valid;
    const n = seq;
    const dataText = `{"seq":${n},"payload":${payload}}`;
    const fields = [
      field('type', JSON.stringify(type)),
      field('data', dataText),
      ...Object.entries(addressing).map(([name, value]) => field(name, JSON.stringify(value))),
      ...(extra === null ? [] : [field('__proto__', extra)]),
    ];
    const value = utf8(`{${fields.join(',')}}`);
    if (value.length > MAX_RECORD_BYTES)
      return {
        kind: 'invalid',
        topic,
        partition,
        ...keyed,
        value,
        why: 'a valid record too large',
        reasons: ['too-large'],
      };
    seq++;
    const recipients =
      'userId' in addressing
        ? new Set([addressing.userId])
        : 'userIds' in addressing
          ? new Set(addressing.userIds)
          : undefined;
    return {
      kind: 'valid',
      topic,
      partition,
      ...keyed,
      value,
      seq: n,
      type,
      data: (JSON.parse(value.toString()) as { data: unknown }).data,
      recipients,
    };
  });
  return { users, records };
}

// --- Streams ------------------------------------------------------------------------------------

interface Reader {
  readonly user: string;
  readonly topics: readonly string[];
  readonly stream: SseHttpStream;
}

const SENTINEL = 'fuzz.sentinel';

const eventsOf = (blocks: readonly SseBlock[]) =>
  blocks.filter((block) => !['checkpoint', 'reset', SENTINEL].includes(only(block, 'event')));

const sentinelsOf = (blocks: readonly SseBlock[]) =>
  blocks.filter((block) => only(block, 'event') === SENTINEL);

// --- The test -----------------------------------------------------------------------------------

describe('Fuzzed Kafka records (e2e)', () => {
  const run = randomUUID().slice(0, 8);
  const deadLetterTopic = `fuzz-dead-letters-${run}`;
  // The routing index is keyed by user id: prototype names must be ids like any other.
  const users = [`ana-${run}`, `bo-${run}`, `cy-${run}`, '__proto__'];
  const strangers = [`nobody-${run}`, 'constructor'];
  let gateway: TestGateway;
  let kafka: Kafka;
  let producer: Producer;
  const readers: Reader[] = [];

  beforeAll(async () => {
    await ensureTopics(brokers(), [deadLetterTopic], 1);
    gateway = await startTestGateway({
      KAFKA_DEAD_LETTER_TOPIC: deadLetterTopic,
      KAFKA_MAX_RECORD_BYTES: String(MAX_RECORD_BYTES),
    });
    kafka = new Kafka({ brokers: brokers(), clientId: `fuzz-${run}`, logLevel: logLevel.NOTHING });
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    // Until the gateway has read the log as it was at start-up, it still counts older records.
    await waitFor(
      async () => (await fetch(`${gateway.url}/health/ready`)).status === 200,
      'the gateway to be ready',
      30_000,
    );
  });

  afterAll(async () => {
    readers.forEach(({ stream }) => stream.close());
    await producer.disconnect();
    await gateway.close();
  });

  async function open(user: string, query = '', claims: { topics?: string[] } = {}): Promise<Reader> {
    const token = await signToken({ sub: user, ...claims });
    const stream = await SseHttpStream.open(`${gateway.url}/events${query}`, {
      authorization: `Bearer ${token}`,
    });
    expect(stream.status).toBe(200);
    const topics = query ? query.replace('?topics=', '').split(',') : (claims.topics ?? [...TEST_TOPICS]);
    const reader = { user, topics: topics.sort(), stream };
    readers.push(reader);
    return reader;
  }

  /** One request per batch, with explicit partitions; returns where each record landed. */
  async function produce(batch: readonly Outgoing[]): Promise<string[]> {
    const topics = [...new Set(batch.map((record) => record.topic))];
    const result = await producer.sendBatch({
      topicMessages: topics.map((topic) => ({
        topic,
        messages: batch
          .filter((record) => record.topic === topic)
          .map(({ partition, value, key, headers }) => ({ partition, value, key, headers })),
      })),
    });
    const next = new Map(
      result.map((meta) => [`${meta.topicName}/${meta.partition}`, BigInt(meta.baseOffset ?? '0')]),
    );
    return batch.map(({ topic, partition }) => {
      const where = `${topic}/${partition}`;
      const offset = next.get(where)!;
      next.set(where, offset + 1n);
      return `${where}/${offset}`;
    });
  }

  type DeadLetter = { value: Buffer | null; headers: IHeaders; key: Buffer | null };

  /** Every message of the dead-letter topic up to its end now, from its beginning, by the source it names. */
  async function readDeadLetters(): Promise<Map<string, DeadLetter[]>> {
    const admin = kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(deadLetterTopic).finally(() => admin.disconnect());
    const consumer = kafka.consumer({ groupId: `fuzz-dlq-reader-${randomUUID()}` });
    const bySource = new Map<string, DeadLetter[]>();
    const reached = new Map<number, bigint>();
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: deadLetterTopic, fromBeginning: true });
      await consumer.run({
        eachMessage: ({ partition, message }) => {
          const source = message.headers?.[SOURCE_HEADER]?.toString() ?? '';
          bySource.set(source, [
            ...(bySource.get(source) ?? []),
            { value: message.value, headers: message.headers ?? {}, key: message.key },
          ]);
          reached.set(partition, BigInt(message.offset) + 1n);
          return Promise.resolve();
        },
      });
      await waitFor(
        () => ends.every(({ partition, high }) => (reached.get(partition) ?? 0n) >= BigInt(high)),
        'the end of the dead-letter topic',
        30_000,
      );
    } finally {
      await consumer.disconnect();
    }
    return bySource;
  }

  it('should deliver every valid record to exactly its addressees, and count and dead-letter every invalid one', async () => {
    const { records } = scenario(users, strangers);
    const valid = records.filter((record): record is ValidRecord => record.kind === 'valid');
    const invalid = records.filter((record): record is InvalidRecord => record.kind === 'invalid');
    expect(valid.length).toBeGreaterThan(RECORDS / 3);
    expect(invalid.length).toBeGreaterThan(RECORDS / 3);

    await Promise.all([
      open(users[0]!),
      open(users[0]!),
      open(users[1]!, '?topics=chat,orders'),
      open(users[2]!, '?topics=notifications'),
      open(users[3]!),
      open(users[3]!, '', { topics: ['chat'] }),
    ]);
    const invalidBefore = await gateway.metric('kafka_records_invalid_total');
    const deadLettersBefore = await gateway.metric('kafka_dead_letters_total', { outcome: 'copied' });

    const positions: string[] = [];
    const size = Math.ceil(records.length / BATCHES);
    for (let from = 0; from < records.length; from += size)
      positions.push(...(await produce(records.slice(from, from + size))));
    const sentinels = TEST_TOPICS.flatMap((topic) =>
      Array.from({ length: PARTITIONS }, (_, partition) => ({
        topic,
        partition,
        value: utf8(JSON.stringify({ type: SENTINEL, data: { topic, partition }, broadcast: true })),
      })),
    );
    await produce(sentinels);

    // The consumer never stopped: each stream got the last record of each of its partitions.
    await waitFor(
      () =>
        readers.every(
          ({ stream, topics }) => sentinelsOf(stream.blocks).length === topics.length * PARTITIONS,
        ),
      'every sentinel on every stream',
      30_000,
    );

    const problems: string[] = [];
    for (const { user, topics, stream } of readers) {
      const label = `${user} on ${topics.join(',')}`;
      for (const block of stream.blocks) {
        const problem = blockProblem(block);
        if (problem) problems.push(`${label}: ${problem}`);
      }
      const expected = valid.filter(
        (record) =>
          topics.includes(record.topic) && (record.recipients === undefined || record.recipients.has(user)),
      );
      const received = eventsOf(stream.blocks).map((block) => ({
        type: only(block, 'event'),
        data: JSON.parse(only(block, 'data')) as { seq: number },
      }));
      expect([label, received.map((event) => event.data.seq).sort((a, b) => a - b)]).toEqual([
        label,
        expected.map((record) => record.seq).sort((a, b) => a - b),
      ]);
      // Each event as it was produced: its type as the event name, its data intact.
      const bySeq = new Map(valid.map((record) => [record.seq, record]));
      for (const { type, data } of received) {
        const record = bySeq.get(data.seq)!;
        if (type !== record.type)
          problems.push(`${label}: seq ${data.seq} arrived as ${JSON.stringify(type)}`);
        try {
          expect(data).toEqual(record.data);
        } catch {
          problems.push(`${label}: seq ${data.seq} arrived with other data`);
        }
      }
      // In production order per partition.
      for (const topic of topics) {
        for (let partition = 0; partition < PARTITIONS; partition++) {
          const order = received
            .map((event) => bySeq.get(event.data.seq)!)
            .filter((record) => record.topic === topic && record.partition === partition)
            .map((record) => record.seq);
          if (order.join() !== [...order].sort((a, b) => a - b).join())
            problems.push(`${label}: ${topic}/${partition} out of order`);
        }
      }
    }
    expect(problems).toEqual([]);

    expect((await gateway.metric('kafka_records_invalid_total')) - invalidBefore).toBe(invalid.length);

    // Copies are sent in the background: wait until every copy has an outcome before reading them.
    await waitFor(
      async () => (await gateway.metric('kafka_dead_letters_total')) - deadLettersBefore >= invalid.length,
      'an outcome for every dead-letter copy',
      30_000,
    );
    expect(await gateway.metric('kafka_dead_letters_total', { outcome: 'copied' })).toBe(
      deadLettersBefore + invalid.length,
    );

    const invalidAt = new Map(records.map((record, i) => [positions[i]!, record]));
    const deadLetters = await readDeadLetters();
    const dlqProblems: string[] = [];
    for (const [source, record] of invalidAt) {
      const copies = deadLetters.get(source) ?? [];
      if (record.kind === 'valid') {
        if (copies.length > 0) dlqProblems.push(`valid ${source} was dead-lettered`);
        continue;
      }
      if (copies.length !== 1) {
        dlqProblems.push(`${record.why} at ${source} has ${copies.length} dead letters`);
        continue;
      }
      const [copy] = copies;
      const reason = copy!.headers[INVALID_REASON_HEADER]?.toString();
      if (!reason || !record.reasons.includes(reason))
        dlqProblems.push(`${record.why} at ${source}: reason ${reason}`);
      const sameValue = record.value === null ? copy!.value === null : copy!.value?.equals(record.value);
      if (!sameValue) dlqProblems.push(`${record.why} at ${source}: the value changed`);
    }
    expect(dlqProblems).toEqual([]);
  }, 120_000);

  it('should never let CR, LF or U+2028 in a record shape the SSE framing: no forged field, event or line', async () => {
    const user = `framing-${run}`;
    const reader = await open(user, '?topics=chat');
    const framing = [...FRAMING, 'x\r\n\r\nevent: forged\r\nid: forged\r\ndata: "forged"\r\n\r\n'];
    const validValues = framing.flatMap((data, n) => [
      { type: 'framing', data: { n, data } },
      { type: 'framing', data: [data, { [data]: data }] },
      { type: `é-${n}`, data },
    ]);
    const invalidValues = framing
      .filter((type) => /[\r\n\u2028\u2029\u0000]/.test(type))
      .map((type) => ({ type, data: 1 }));
    expect(invalidValues.length).toBeGreaterThan(4);
    const values = [...validValues, ...invalidValues]
      .map((record) => JSON.stringify({ ...record, userId: user }))
      .concat(JSON.stringify({ type: SENTINEL, data: 'end', userId: user }));

    await produce(values.map((value) => ({ topic: 'chat', partition: 2, value: utf8(value) })));
    await waitFor(() => sentinelsOf(reader.stream.blocks).length === 1, 'the sentinel');

    const blocks = reader.stream.blocks;
    for (const block of blocks) expect([blockProblem(block), block]).toEqual([undefined, block]);
    const events = blocks.filter((block) => only(block, 'event') !== 'checkpoint');
    // Exactly the valid records and the sentinel: nothing split off, nothing forged.
    expect(events.map((block) => [only(block, 'event'), JSON.parse(only(block, 'data')) as unknown])).toEqual(
      [...validValues.map(({ type, data }) => [type, data]), [SENTINEL, 'end']],
    );
    expect(
      blocks.flat().filter((line) => /forged/.test(line.name) || line.value.startsWith('forged')),
    ).toEqual([]);
    reader.stream.close();
  });

  describe('a dead-lettered record keeps its key and headers', () => {
    // kafka-record.controller.ts copies `message.key` and `message.headers` from the KafkaContext,
    // where Nest's KafkaParser has already decoded them: text starting with `{` or `[` is parsed
    // into an object or array, and other bytes are decoded as UTF-8. README: "invalid records are
    // copied there".
    async function deadLetterOf(key: string | Buffer, headers: IHeaders): Promise<DeadLetter[]> {
      const copied = await gateway.metric('kafka_dead_letters_total', { outcome: 'copied' });
      const [source] = await produce([
        { topic: 'notifications', partition: 0, value: utf8('not json'), key, headers },
      ]);
      // The copy is sent in the background.
      await waitFor(
        async () => (await gateway.metric('kafka_dead_letters_total', { outcome: 'copied' })) > copied,
        'the copy',
      );
      return (await readDeadLetters()).get(source!) ?? [];
    }

    // Actual: no copy at all; the send throws (TypeError ERR_INVALID_ARG_TYPE: "Received an instance
    // of Object") and the controller logs "Skipped record … after an error".
    it('should copy a record whose key or a header is JSON text', async () => {
      const copies = await deadLetterOf('{"tenant":"t-1"}', { trace: '[1,2]', plain: 'abc' });

      expect(copies).toHaveLength(1);
      expect(copies[0]!.key?.toString()).toBe('{"tenant":"t-1"}');
      expect(copies[0]!.headers['trace']?.toString()).toBe('[1,2]');
      expect(copies[0]!.headers['plain']?.toString()).toBe('abc');
    });

    // Actual: the copy's key and header hold U+FFFD (ef bf bd) where the original bytes were.
    it('should copy a binary key and binary headers byte for byte', async () => {
      const key = Buffer.from([0xff, 0x01, 0xfe]);
      const binary = Buffer.from([0xc3, 0x28, 0x80]);

      const copies = await deadLetterOf(key, { binary });

      expect(copies).toHaveLength(1);
      expect(copies[0]!.key?.equals(key)).toBe(true);
      expect(Buffer.from(copies[0]!.headers['binary'] as Buffer).equals(binary)).toBe(true);
    });
  });

  describe('a type with a lone surrogate', () => {
    // record-parser.ts takes `"\ud800"` as a type (one character, no control character); the SSE
    // writer encodes it as UTF-8, where a lone surrogate becomes U+FFFD, so the browser dispatches
    // an event of another name, and "\ud800" and "\udfff" become the same one.
    it('should deliver the type it accepted, or refuse it', async () => {
      const reader = await open(`lone-${run}`, '?topics=notifications');
      await produce([
        {
          topic: 'notifications',
          partition: 1,
          value: utf8(`{"type":"a\\ud800","data":{"lone":true},"userId":"${reader.user}"}`),
        },
        {
          topic: 'notifications',
          partition: 1,
          value: utf8(`{"type":"after-lone","data":1,"userId":"${reader.user}"}`),
        },
      ]);
      await waitFor(
        () => eventsOf(reader.stream.blocks).some((block) => only(block, 'event') === 'after-lone'),
        'the record after',
      );

      const types = eventsOf(reader.stream.blocks)
        .map((block) => only(block, 'event'))
        .filter((type) => type !== 'after-lone');
      expect(types.every((type) => type === 'a\ud800')).toBe(true);
    });
  });
});
