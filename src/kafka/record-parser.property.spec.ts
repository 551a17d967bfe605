import fc from 'fast-check';
import type { Audience } from '../log/gateway-event.js';
import { INVALID_RECORD_REASONS, parseRecordValue, type InvalidRecordReason } from './record-parser.js';

/**
 * Properties of parseRecordValue against a reference validator written from the README's event
 * contract, not from the parser. Every property also checks that the parser never throws and never
 * pollutes Object.prototype.
 */

// ---------------------------------------------------------------------------------------------
// The oracle: the README's event contract, read independently of record-parser.ts.
// ---------------------------------------------------------------------------------------------

const RESERVED_TYPES = ['checkpoint', 'error', 'open', 'reset'];
/**
 * "no control characters": Unicode's control characters (Cc: U+0000–U+001F, U+007F–U+009F), plus
 * the line and paragraph separators U+2028/U+2029, which the unit spec pins as line breaks too.
 */
const CONTROL = /[\p{Cc}\u2028\u2029]/u;
/** "1–128 characters", counted as JavaScript counts them (UTF-16 code units). */
const MAX_TYPE_LENGTH = 128;
/** The README says only "string"; record-parser.spec.ts pins 1–256 characters, no control characters. */
const MAX_USER_ID_LENGTH = 256;

/** Outcomes the README names before the field table; the table's own failures are `contract`. */
type Stage = 'tombstone' | 'too-large' | 'not-utf8' | 'not-json' | 'not-object' | 'contract';
type Verdict =
  { valid: true; type: string; data: unknown; audience: Audience } | { valid: false; stage: Stage };

const reject = (stage: Stage): Verdict => ({ valid: false, stage });
/** No lone surrogates: the text survives a UTF-8 round trip. */
const wellFormed = (value: string): boolean => Buffer.from(value, 'utf8').toString('utf8') === value;
const isUserId = (value: unknown): value is string =>
  typeof value === 'string' &&
  value.length >= 1 &&
  value.length <= MAX_USER_ID_LENGTH &&
  !CONTROL.test(value) &&
  wellFormed(value);

function oracle(bytes: Uint8Array | null | undefined, maxBytes: number): Verdict {
  if (bytes === null || bytes === undefined) return reject('tombstone');
  if (bytes.byteLength > maxBytes) return reject('too-large');
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = buffer.toString('utf8');
  // Node replaces every malformed sequence with U+FFFD, so only valid UTF-8 survives a round trip.
  if (!Buffer.from(text, 'utf8').equals(buffer)) return reject('not-utf8');
  let record: unknown;
  try {
    // A byte order mark is not JSON text; the unit spec accepts one in front of it.
    record = JSON.parse(text.startsWith('\ufeff') ? text.slice(1) : text);
  } catch {
    return reject('not-json');
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return reject('not-object');
  const has = (name: string): boolean => Object.prototype.hasOwnProperty.call(record, name);
  const field = (name: string): unknown =>
    has(name) ? (record as Record<string, unknown>)[name] : undefined;

  const type = field('type');
  if (
    typeof type !== 'string' ||
    type.length < 1 ||
    type.length > MAX_TYPE_LENGTH ||
    CONTROL.test(type) ||
    !wellFormed(type)
  )
    return reject('contract');
  if (RESERVED_TYPES.includes(type)) return reject('contract');
  if (!has('data')) return reject('contract');

  // "Exactly one of userId, userIds, broadcast: true must be present": a field counts as present
  // whatever its value, so `broadcast: false` next to a userId is two, and invalid.
  const addressing = ['userId', 'userIds', 'broadcast'].filter(has);
  const [given] = addressing;
  if (addressing.length !== 1 || given === undefined) return reject('contract');
  let audience: Audience;
  switch (given) {
    case 'userId': {
      const userId = field('userId');
      if (!isUserId(userId)) return reject('contract');
      audience = { kind: 'user', userId };
      break;
    }
    case 'userIds': {
      const userIds = field('userIds');
      if (!Array.isArray(userIds) || userIds.length === 0 || !userIds.every(isUserId))
        return reject('contract');
      const unique: string[] = [];
      for (const id of userIds) if (!unique.includes(id)) unique.push(id);
      audience = { kind: 'users', userIds: unique };
      break;
    }
    default:
      if (field('broadcast') !== true) return reject('contract');
      audience = { kind: 'broadcast' };
  }
  return { valid: true, type, data: field('data'), audience };
}

const FIELD_REASONS: InvalidRecordReason[] = [
  'bad-type',
  'reserved-type',
  'missing-data',
  'unserializable-data',
  'bad-addressing',
  'bad-user-id',
];

// ---------------------------------------------------------------------------------------------
// The check every property makes.
// ---------------------------------------------------------------------------------------------

const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();

function expectUnpolluted(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeNames);
  const probe = {} as Record<string, unknown>;
  for (const name of ['polluted', 'type', 'data', 'userId', 'userIds', 'broadcast'])
    expect(probe[name]).toBeUndefined();
}

/** Parses `bytes` and checks the outcome against the oracle; returns whether it was valid. */
function expectMatchesContract(bytes: Uint8Array, maxBytes: number): boolean {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const result = parseRecordValue(buffer, maxBytes);
  const verdict = oracle(bytes, maxBytes);
  expectUnpolluted();
  if (!verdict.valid) {
    expect(result.ok).toBe(false);
    if (result.ok) return false;
    seenReasons.add(result.reason);
    if (verdict.stage === 'contract') expect(FIELD_REASONS).toContain(result.reason);
    else expect(result.reason).toBe(verdict.stage);
    return false;
  }
  expect(result).toMatchObject({ ok: true });
  if (!result.ok) return true;
  expect(result.content.type).toBe(verdict.type);
  expect(result.content.audience).toEqual(verdict.audience);
  expect(JSON.parse(result.content.data)).toEqual(verdict.data);
  // Serialised once, on one SSE line: no raw line break can reach the wire.
  expect(result.content.data).not.toMatch(/[\r\n]/);
  return true;
}

/** Every reason the properties have seen the parser give. */
const seenReasons = new Set<InvalidRecordReason>();

const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));

// ---------------------------------------------------------------------------------------------
// Generators.
// ---------------------------------------------------------------------------------------------

/** Pieces that matter to SSE framing, JSON escaping and UTF-16, mixed into generated text. */
const SPECIAL_TEXT = [
  '\r',
  '\n',
  '\r\n',
  '\u2028',
  '\u2029',
  '\u0000',
  '\t',
  '\u001b',
  '\u007f',
  '\ufeff',
  '\ud800',
  '\udfff',
  'event: forged',
  '\n\ndata: {}',
  'id: 1',
  'retry: 1',
  ':',
  ' ',
  '"',
  '\\',
  'é',
  'é',
  '😀',
  '世界',
  '‮',
];

const textUnit = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...'abcxyz.-_ 0123456789ABC'.split('')) },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL_TEXT) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x10ffff }).map((point) => String.fromCodePoint(point)) },
);

/** C1 controls (U+0080–U+009F) are left out of generated names; a block below checks them on their own. */
const withoutC1 = (text: string): string => text.replace(/[\u0080-\u009f]/g, '');

const anyText = (maxLength: number) => fc.string({ unit: textUnit, maxLength });
const cleanName = fc
  .string({
    unit: fc.constantFrom(...'abcdefghij.-_:/ 0123456789é😀世'.split('')),
    minLength: 1,
    maxLength: 24,
  })
  .map((text) => text);

/** JSON text, built by hand so that objects can carry `__proto__`, `constructor` and `prototype` keys. */
const PROTO_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'toJSON',
];
const CONTRACT_KEYS = ['type', 'data', 'userId', 'userIds', 'broadcast', 'polluted'];
const jsonKey = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...PROTO_KEYS, ...CONTRACT_KEYS) },
  { weight: 3, arbitrary: anyText(12) },
);
const whitespace = fc.constantFrom('', '', '', ' ', '\n', '\r\n', '\t');
const jsonScalarText = fc.oneof(
  anyText(20).map((text) => JSON.stringify(text)),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.integer().map(String),
  fc.constantFrom('true', 'false', 'null', '0', '""', '[]', '{}'),
);
const { jsonText } = fc.letrec<{ jsonText: string; array: string; object: string }>((tie) => ({
  jsonText: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    jsonScalarText,
    tie('array'),
    tie('object'),
  ),
  array: fc.array(tie('jsonText'), { maxLength: 5 }).map((items) => `[${items.join(',')}]`),
  object: fc
    .array(fc.tuple(jsonKey, whitespace, tie('jsonText')), { maxLength: 5 })
    .map(
      (entries) =>
        `{${entries.map(([key, space, value]) => `${JSON.stringify(key)}:${space}${value}`).join(',')}}`,
    ),
}));

/** Values for each contract field: right ones, and wrong ones of every kind. */
const wrongTypes = fc.oneof(
  fc.constantFrom('null', 'true', 'false', '0', '1', '-1.5', '[]', '{}', '""'),
  jsonText,
);
const typeText = fc.oneof(
  { weight: 5, arbitrary: cleanName.map((name) => JSON.stringify(name)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...RESERVED_TYPES, 'Error', 'reset ', 'opened').map((t) => JSON.stringify(t)),
  },
  { weight: 2, arbitrary: anyText(40).map((text) => JSON.stringify(withoutC1(text))) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 120, max: 140 }).map((length) => JSON.stringify('t'.repeat(length))),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 60, max: 70 }).map((length) => JSON.stringify('😀'.repeat(length))),
  },
  { weight: 1, arbitrary: wrongTypes },
);
const userIdValue = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('alice', 'bob', 'carol', '__proto__', 'constructor', 'usér-😀') },
  { weight: 2, arbitrary: anyText(16).map(withoutC1) },
  { weight: 1, arbitrary: fc.integer({ min: 250, max: 260 }).map((length) => 'u'.repeat(length)) },
);
const userIdText = fc.oneof(
  { weight: 5, arbitrary: userIdValue.map((id) => JSON.stringify(id)) },
  { weight: 1, arbitrary: wrongTypes },
);
const userIdsText = fc.oneof(
  { weight: 5, arbitrary: fc.array(userIdText, { maxLength: 6 }).map((ids) => `[${ids.join(',')}]`) },
  { weight: 1, arbitrary: wrongTypes },
);
const broadcastText = fc.oneof(
  { weight: 5, arbitrary: fc.constant('true') },
  { weight: 1, arbitrary: fc.constantFrom('false', '"true"', '1', 'null', '[true]') },
);
/** A value hiding contract fields under a prototype key. */
const protoCarrier = fc.constantFrom(
  '{"polluted":1}',
  '{"polluted":1,"userId":"mallory","broadcast":true,"type":"t","data":1}',
  '{"prototype":{"polluted":1}}',
  '{"__proto__":{"polluted":1}}',
  'null',
);

/** A record-shaped JSON object: each contract field present or not, right or wrong, in any order. */
const recordText = fc
  .record({
    type: fc.option(typeText, { freq: 10 }),
    data: fc.option(jsonText, { freq: 10 }),
    addressing: fc.constantFrom<Array<'userId' | 'userIds' | 'broadcast'>>(
      ['userId'],
      ['userId'],
      ['userIds'],
      ['userIds'],
      ['broadcast'],
      ['broadcast'],
      [],
      ['userId', 'broadcast'],
      ['userId', 'userIds'],
      ['userIds', 'broadcast'],
      ['userId', 'userIds', 'broadcast'],
    ),
    userId: userIdText,
    userIds: userIdsText,
    broadcast: broadcastText,
    extra: fc.array(fc.tuple(jsonKey, fc.oneof(protoCarrier, jsonText)), { maxLength: 4 }),
    order: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 16, maxLength: 16 }),
    space: whitespace,
  })
  .map(({ type, data, addressing, userId, userIds, broadcast, extra, order, space }) => {
    const entries: Array<[string, string]> = [...extra];
    if (type !== null) entries.push(['type', type]);
    if (data !== null) entries.push(['data', data]);
    const values = { userId, userIds, broadcast };
    for (const name of addressing) entries.push([name, values[name]]);
    const shuffled = entries
      .map((entry, i) => ({ entry, rank: order[i % order.length]! + i / 1000 }))
      .sort((a, b) => a.rank - b.rank)
      .map(({ entry }) => entry);
    return `${space}{${shuffled.map(([key, value]) => `${JSON.stringify(key)}${space}:${value}`).join(`,${space}`)}}${space}`;
  });

/** Arbitrary bytes of any length up to ~100 KB; long ones from a seeded generator, for speed. */
const bigBytes = fc
  .record({ length: fc.integer({ min: 0, max: 100_000 }), seed: fc.integer() })
  .map(({ length, seed }) => {
    const bytes = new Uint8Array(length);
    let state = seed >>> 0;
    for (let i = 0; i < length; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      bytes[i] = state >>> 24;
    }
    return bytes;
  });

/** A valid-looking record, then damaged: bytes flipped, inserted or cut off. */
const damagedRecord = fc
  .record({
    text: recordText,
    edits: fc.array(
      fc.record({
        at: fc.double({ min: 0, max: 1, noNaN: true }),
        kind: fc.constantFrom('flip', 'insert', 'cut'),
        byte: fc.integer({ min: 0, max: 255 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map(({ text, edits }) => {
    let bytes = Array.from(utf8(text));
    for (const { at, kind, byte } of edits) {
      const i = Math.floor(at * bytes.length);
      if (kind === 'flip') bytes[i] = byte;
      else if (kind === 'insert') bytes.splice(i, 0, byte);
      else bytes = bytes.slice(0, i);
    }
    return new Uint8Array(bytes);
  });

const MAX_BYTES = 64 * 1024;
/** The limit, sometimes right at the value's size, so both sides of too-large are reached. */
const withLimit = (bytes: fc.Arbitrary<Uint8Array>) =>
  fc
    .tuple(bytes, fc.constantFrom('default', 'default', 'default', 'exact', 'one-less', 'small'))
    .map(
      ([value, limit]) =>
        [
          value,
          limit === 'exact'
            ? value.length
            : limit === 'one-less'
              ? Math.max(0, value.length - 1)
              : limit === 'small'
                ? 64
                : MAX_BYTES,
        ] as const,
    );

// ---------------------------------------------------------------------------------------------
// Properties.
// ---------------------------------------------------------------------------------------------

const SEED = 20_260_101;
/** Generated inputs per property; the report quotes these. */
const RUNS = {
  bytes: 3000,
  jsonValue: 3000,
  records: 5000,
  polluted: 2000,
  injection: 3000,
  deep: 600,
} as const;

describe('parseRecordValue (properties)', () => {
  let outcomes: Map<string, number>;
  const tally = (valid: boolean): void => {
    const key = valid ? 'valid' : 'invalid';
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  };

  beforeEach(() => {
    outcomes = new Map();
  });

  afterEach(() => {
    for (const name of ['polluted', 'type', 'data', 'userId', 'userIds', 'broadcast'])
      delete (Object.prototype as Record<string, unknown>)[name];
  });

  it('should never throw for arbitrary bytes, and agree with the contract', () => {
    const bytes = fc.oneof(
      { weight: 4, arbitrary: fc.uint8Array({ maxLength: 512 }) },
      { weight: 1, arbitrary: bigBytes },
      { weight: 3, arbitrary: damagedRecord },
      { weight: 2, arbitrary: recordText.map(utf8) },
    );

    seenReasons.clear();
    fc.assert(
      fc.property(withLimit(bytes), ([value, maxBytes]) => {
        tally(expectMatchesContract(value, maxBytes));
      }),
      { numRuns: RUNS.bytes, seed: SEED },
    );

    expect((outcomes.get('valid') ?? 0) + (outcomes.get('invalid') ?? 0)).toBe(RUNS.bytes);
    expect(outcomes.get('valid')).toBeGreaterThan(0);
    expect([...seenReasons]).toEqual(
      expect.arrayContaining(['too-large', 'not-utf8', 'not-json', 'not-object']),
    );
  });

  it('should agree with the contract for arbitrary JSON values, alone and as data', () => {
    const value = fc.jsonValue({ maxDepth: 30, depthSize: 'medium' });
    const input = fc.oneof(
      value.map((json) => JSON.stringify(json)),
      fc
        .tuple(
          value,
          cleanName,
          fc.constantFrom('"userId":"alice"', '"userIds":["a","b","a"]', '"broadcast":true'),
        )
        .map(
          ([data, type, addressing]) =>
            `{"type":${JSON.stringify(type)},"data":${JSON.stringify(data)},${addressing}}`,
        ),
    );

    fc.assert(
      fc.property(input, (text) => {
        tally(expectMatchesContract(utf8(text), MAX_BYTES));
      }),
      { numRuns: RUNS.jsonValue, seed: SEED + 1 },
    );

    expect(outcomes.get('valid')).toBeGreaterThan(RUNS.jsonValue / 4);
    expect(outcomes.get('invalid')).toBeGreaterThan(RUNS.jsonValue / 4);
  });

  it('should accept a record iff it matches the contract, whatever the fields, their types, order and prototype keys', () => {
    seenReasons.clear();
    fc.assert(
      fc.property(recordText, (text) => {
        tally(expectMatchesContract(utf8(text), MAX_BYTES));
      }),
      { numRuns: RUNS.records, seed: SEED + 2 },
    );

    // Both outcomes are common, and every field-level reason is reached, so the oracle is
    // exercised on each side of each rule.
    expect(outcomes.get('valid')).toBeGreaterThan(RUNS.records / 10);
    expect(outcomes.get('invalid')).toBeGreaterThan(RUNS.records / 10);
    expect([...seenReasons]).toEqual(
      expect.arrayContaining(FIELD_REASONS.filter((r) => r !== 'unserializable-data')),
    );
  });

  it('should read own fields only, even while Object.prototype is polluted', () => {
    const pollution = fc.subarray(['type', 'data', 'userId', 'userIds', 'broadcast'], { minLength: 1 });

    fc.assert(
      fc.property(recordText, pollution, (text, names) => {
        const verdict = oracle(utf8(text), MAX_BYTES);
        const planted: Record<string, unknown> = {
          type: 't',
          data: 1,
          userId: 'mallory',
          userIds: ['mallory'],
          broadcast: true,
        };
        let result: ReturnType<typeof parseRecordValue>;
        try {
          for (const name of names) (Object.prototype as Record<string, unknown>)[name] = planted[name];
          result = parseRecordValue(Buffer.from(text), MAX_BYTES);
        } finally {
          for (const name of names) delete (Object.prototype as Record<string, unknown>)[name];
        }
        expect(result.ok).toBe(verdict.valid);
        if (result.ok && verdict.valid) expect(result.content.audience).toEqual(verdict.audience);
        tally(result.ok);
      }),
      { numRuns: RUNS.polluted, seed: SEED + 6 },
    );

    expectUnpolluted();
    expect(outcomes.get('valid')).toBeGreaterThan(0);
  });

  it('should never let CR, LF or U+2028 in type or data become an SSE line break', () => {
    const framing = fc.string({
      unit: fc.oneof(
        fc.constantFrom('\r', '\n', '\r\n', '\u2028', '\u2029', 'event: x', 'data: y', 'id: 1', ':'),
        textUnit,
      ),
      maxLength: 30,
    });
    const input = fc
      .record({ type: framing.map(withoutC1), data: fc.oneof(framing, fc.array(framing, { maxLength: 3 })) })
      .map(({ type, data }) => JSON.stringify({ type, data, broadcast: true }));

    fc.assert(
      fc.property(input, (text) => {
        const valid = expectMatchesContract(utf8(text), MAX_BYTES);
        tally(valid);
        const { type } = JSON.parse(text) as { type: string };
        if (/[\r\n\u2028\u2029]/.test(type)) expect(valid).toBe(false);
      }),
      { numRuns: RUNS.injection, seed: SEED + 3 },
    );

    expect(outcomes.get('valid')).toBeGreaterThan(0);
    expect(outcomes.get('invalid')).toBeGreaterThan(0);
  });

  it('should take data nested up to 50,000 levels deep without throwing: as is, or as unserializable-data', () => {
    const nested = fc
      .record({
        // Past a few thousand levels serialising overflows the stack, which takes ~10 ms a time.
        depth: fc.oneof(
          { weight: 3, arbitrary: fc.integer({ min: 1, max: 3000 }) },
          fc.integer({ min: 3000, max: 50_000 }),
        ),
        open: fc.constantFrom('[', '{"__proto__":'),
      })
      .map(({ depth, open }) => {
        const close = open === '[' ? ']' : '}';
        return `${open.repeat(depth)}${open === '[' ? '' : 'null'}${close.repeat(depth)}`;
      });

    fc.assert(
      fc.property(nested, (data) => {
        const value = utf8(`{"type":"t","data":${data},"broadcast":true}`);
        const result = parseRecordValue(Buffer.from(value), 1024 * 1024);
        expectUnpolluted();
        if (result.ok) expect(result.content.data).toBe(data);
        else expect(result.reason).toBe('unserializable-data');
        tally(result.ok);
      }),
      { numRuns: RUNS.deep, seed: SEED + 4 },
    );

    expect(outcomes.get('valid')).toBeGreaterThan(0);
  });

  it('should be checked against an oracle that itself knows the README examples', () => {
    const examples = [
      '{ "type": "order.created", "data": { "orderId": "o-17", "total": 42.5 }, "userId": "alice" }',
      '{ "type": "chat.message",  "data": { "room": "ops", "text": "hi" },     "userIds": ["bob", "carol"] }',
      '{ "type": "notification",  "data": "maintenance at 18:00",              "broadcast": true }',
    ];
    for (const text of examples) expect(oracle(utf8(text), MAX_BYTES)).toMatchObject({ valid: true });
    expect(oracle(utf8('{"type":"notification","data":1}'), MAX_BYTES)).toEqual(reject('contract'));
    expect(oracle(utf8('{"type":"a\\u0085b","data":1,"broadcast":true}'), MAX_BYTES)).toEqual(
      reject('contract'),
    );
    expect(INVALID_RECORD_REASONS).toEqual(expect.arrayContaining(FIELD_REASONS));
  });

  describe('a type with a C1 control character (U+0080–U+009F)', () => {
    // README: `type` is "a string, 1–128 characters, no control characters". record-parser.ts only
    // rejects U+0000–U+001F, U+007F, U+2028 and U+2029, so e.g. NEL (U+0085) passes.
    it('should reject a type containing any C1 control character', () => {
      const input = fc
        .record({
          before: cleanName,
          control: fc.integer({ min: 0x80, max: 0x9f }),
          after: fc.string({ maxLength: 4 }),
        })
        .map(({ before, control, after }) =>
          `${before}${String.fromCharCode(control)}${after}`.slice(0, 100),
        );

      fc.assert(
        fc.property(input, (type) => {
          expect(
            parseRecordValue(Buffer.from(JSON.stringify({ type, data: 1, broadcast: true })), MAX_BYTES).ok,
          ).toBe(false);
        }),
        { numRuns: 200, seed: SEED + 5 },
      );
    });
  });
});
