import {
  INVALID_RECORD_REASONS,
  parseRecordValue,
  RESERVED_EVENT_TYPES,
  type InvalidRecordReason,
  type ParseResult,
} from './record-parser.js';

const MAX_BYTES = 64 * 1024;

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const parse = (record: unknown, maxBytes = MAX_BYTES): ParseResult =>
  parseRecordValue(json(record), maxBytes);
const rejected = (reason: InvalidRecordReason): ParseResult => ({ ok: false, reason });

describe('parseRecordValue', () => {
  describe('valid records', () => {
    it('should read a record for one user', () => {
      expect(parse({ type: 'notification', data: { text: 'hi' }, userId: 'alice' })).toEqual<ParseResult>({
        ok: true,
        content: { type: 'notification', data: '{"text":"hi"}', audience: { kind: 'user', userId: 'alice' } },
      });
    });

    it('should read a record for several users, without duplicates, in first-seen order', () => {
      expect(
        parse({ type: 'chat', data: 1, userIds: ['bob', 'alice', 'bob', 'carol', 'alice'] }),
      ).toEqual<ParseResult>({
        ok: true,
        content: { type: 'chat', data: '1', audience: { kind: 'users', userIds: ['bob', 'alice', 'carol'] } },
      });
    });

    it('should read a broadcast record', () => {
      expect(parse({ type: 'maintenance', data: 'soon', broadcast: true })).toEqual<ParseResult>({
        ok: true,
        content: { type: 'maintenance', data: '"soon"', audience: { kind: 'broadcast' } },
      });
    });

    it('should ignore fields outside the contract', () => {
      const result = parse({ type: 't', data: 0, broadcast: true, key: 'k', headers: { a: 1 } });

      expect(result).toEqual<ParseResult>({
        ok: true,
        content: { type: 't', data: '0', audience: { kind: 'broadcast' } },
      });
    });

    it('should accept a record of exactly maxBytes', () => {
      const value = json({ type: 't', data: 'x', broadcast: true });

      expect(parseRecordValue(value, value.length).ok).toBe(true);
    });

    it('should accept a UTF-8 byte order mark', () => {
      const value = Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        json({ type: 't', data: 1, broadcast: true }),
      ]);

      expect(parseRecordValue(value, MAX_BYTES)).toEqual<ParseResult>({
        ok: true,
        content: { type: 't', data: '1', audience: { kind: 'broadcast' } },
      });
    });

    it('should accept a type and user id at their maximum lengths', () => {
      const type = 't'.repeat(128);
      const userId = 'u'.repeat(256);

      expect(parse({ type, data: null, userId })).toEqual<ParseResult>({
        ok: true,
        content: { type, data: 'null', audience: { kind: 'user', userId } },
      });
    });

    it('should accept unicode in the type and user id', () => {
      expect(parse({ type: 'commande.créée', data: null, userId: 'usér-😀' })).toEqual<ParseResult>({
        ok: true,
        content: { type: 'commande.créée', data: 'null', audience: { kind: 'user', userId: 'usér-😀' } },
      });
    });
  });

  describe('data', () => {
    it.each<[string, unknown, string]>([
      ['null', null, 'null'],
      ['false', false, 'false'],
      ['a number', -1.5e-7, '-1.5e-7'],
      ['a string', 'hello', '"hello"'],
      ['an empty string', '', '""'],
      ['an empty object', {}, '{}'],
      ['an array', [1, 'two', [3]], '[1,"two",[3]]'],
      ['a nested object', { a: { b: { c: [true, null] } } }, '{"a":{"b":{"c":[true,null]}}}'],
      ['unicode text', { text: 'héllo 😀 世界' }, '{"text":"héllo 😀 世界"}'],
      ['line separators and newlines', 'a\u2028b\nc\r', '"a\u2028b\\nc\\r"'],
    ])('should serialise %s once as JSON text', (_, data, expected) => {
      const result = parse({ type: 't', data, broadcast: true });

      expect(result).toEqual<ParseResult>({
        ok: true,
        content: { type: 't', data: expected, audience: { kind: 'broadcast' } },
      });
    });

    it('should keep no raw line break in the serialised data', () => {
      const value = Buffer.from('{"type":"t","broadcast":true,"data":{\n  "text": "a\\nb\\r\\nc"\n}}');

      const result = parseRecordValue(value, MAX_BYTES);

      expect(result).toEqual<ParseResult>({
        ok: true,
        content: { type: 't', data: '{"text":"a\\nb\\r\\nc"}', audience: { kind: 'broadcast' } },
      });
    });

    it('should accept data nested a hundred levels deep', () => {
      const nested = `${'['.repeat(100)}${']'.repeat(100)}`;
      const value = Buffer.from(`{"type":"t","broadcast":true,"data":${nested}}`);

      expect(parseRecordValue(value, MAX_BYTES)).toEqual<ParseResult>({
        ok: true,
        content: { type: 't', data: nested, audience: { kind: 'broadcast' } },
      });
    });
  });

  describe('invalid records', () => {
    it('should cover every reason in this suite', () => {
      expect(INVALID_RECORD_REASONS).toEqual([
        'tombstone',
        'too-large',
        'not-utf8',
        'not-json',
        'not-object',
        'bad-type',
        'reserved-type',
        'missing-data',
        'unserializable-data',
        'bad-addressing',
        'bad-user-id',
      ]);
    });

    describe('tombstone', () => {
      it.each([null, undefined])('should reject a %p value', (value) => {
        expect(parseRecordValue(value, MAX_BYTES)).toEqual(rejected('tombstone'));
      });
    });

    describe('too-large', () => {
      it('should reject a record one byte over maxBytes', () => {
        const value = json({ type: 't', data: 'x', broadcast: true });

        expect(parseRecordValue(value, value.length - 1)).toEqual(rejected('too-large'));
      });

      it('should measure UTF-8 bytes, not characters', () => {
        const value = json({ type: 't', data: '😀'.repeat(10), broadcast: true });
        const characters = value.toString('utf8').length;

        expect(value.length).toBeGreaterThan(characters);
        expect(parseRecordValue(value, characters)).toEqual(rejected('too-large'));
      });

      it('should reject before decoding', () => {
        expect(parseRecordValue(Buffer.from([0xff, 0xfe, 0xfd]), 2)).toEqual(rejected('too-large'));
      });
    });

    describe('not-utf8', () => {
      it.each([
        ['a lone continuation byte', [0x80]],
        ['an invalid byte', [0x7b, 0xff, 0x7d]],
        ['a truncated multibyte sequence', [0x22, 0xe2, 0x82, 0x22]],
        ['an overlong encoding', [0xc0, 0xaf]],
        ['an encoded surrogate', [0xed, 0xa0, 0x80]],
      ])('should reject %s', (_, bytes) => {
        expect(parseRecordValue(Buffer.from(bytes), MAX_BYTES)).toEqual(rejected('not-utf8'));
      });
    });

    describe('not-json', () => {
      it.each(['', ' ', '{', '{"type":"t",}', "{'type':'t'}", 'undefined', '{"a":1} {"b":2}', 'NaN'])(
        'should reject %p',
        (text) => {
          expect(parseRecordValue(Buffer.from(text), MAX_BYTES)).toEqual(rejected('not-json'));
        },
      );
    });

    describe('not-object', () => {
      it.each(['[]', '[{"type":"t","data":1,"broadcast":true}]', '"text"', '42', 'true', 'null'])(
        'should reject %p',
        (text) => {
          expect(parseRecordValue(Buffer.from(text), MAX_BYTES)).toEqual(rejected('not-object'));
        },
      );
    });

    describe('bad-type', () => {
      it.each<[string, unknown]>([
        ['a missing type', undefined],
        ['an empty type', ''],
        ['a number', 42],
        ['null', null],
        ['an array', ['t']],
        ['a type over 128 characters', 't'.repeat(129)],
        ['a carriage return', 'a\rb'],
        ['a line feed', 'a\nb'],
        ['a NUL', 'a\u0000b'],
        ['a DEL', 'a\u007fb'],
        ['a line separator U+2028', 'a\u2028b'],
        ['a paragraph separator U+2029', 'a\u2029b'],
      ])('should reject %s', (_, type) => {
        expect(parse({ type, data: 1, broadcast: true })).toEqual(rejected('bad-type'));
      });
    });

    describe('reserved-type', () => {
      it.each(['error', 'open', 'reset'])('should reject the type %p', (type) => {
        expect(parse({ type, data: 1, broadcast: true })).toEqual(rejected('reserved-type'));
      });

      it.each([...RESERVED_EVENT_TYPES])('should reject every reserved type, here %p', (type) => {
        expect(parse({ type, data: 1, broadcast: true })).toEqual(rejected('reserved-type'));
      });

      it.each(['Error', 'reset ', 'message', 'opened'])(
        'should accept the type %p, which only resembles one',
        (type) => {
          expect(parse({ type, data: 1, broadcast: true }).ok).toBe(true);
        },
      );
    });

    describe('missing-data', () => {
      it('should reject a record without data', () => {
        expect(parse({ type: 't', broadcast: true })).toEqual(rejected('missing-data'));
      });
    });

    describe('unserializable-data', () => {
      it('should reject data nested deep enough to overflow the stack', () => {
        const depth = 100_000;
        const value = Buffer.from(
          `{"type":"t","broadcast":true,"data":${'['.repeat(depth)}${']'.repeat(depth)}}`,
        );

        expect(parseRecordValue(value, value.length)).toEqual(rejected('unserializable-data'));
      });
    });

    describe('bad-addressing', () => {
      it.each<[string, Record<string, unknown>]>([
        ['no audience', {}],
        ['userId and broadcast', { userId: 'alice', broadcast: true }],
        ['userId and userIds', { userId: 'alice', userIds: ['bob'] }],
        ['all three', { userId: 'alice', userIds: ['bob'], broadcast: true }],
        ['broadcast false', { broadcast: false }],
        ['broadcast as a string', { broadcast: 'true' }],
        ['broadcast null', { broadcast: null }],
        ['empty userIds', { userIds: [] }],
        ['userIds as a string', { userIds: 'alice' }],
        ['userIds as an object', { userIds: { 0: 'alice' } }],
        ['userIds null', { userIds: null }],
      ])('should reject %s', (_, addressing) => {
        expect(parse({ type: 't', data: 1, ...addressing })).toEqual(rejected('bad-addressing'));
      });
    });

    describe('bad-user-id', () => {
      it.each<[string, unknown]>([
        ['a number', 42],
        ['null', null],
        ['an empty string', ''],
        ['a line feed', 'alice\nbob'],
        ['a tab', 'alice\tbob'],
        ['a NUL', 'alice\u0000'],
        ['a line separator', 'alice\u2028'],
        ['over 256 characters', 'u'.repeat(257)],
      ])('should reject a userId that is %s', (_, userId) => {
        expect(parse({ type: 't', data: 1, userId })).toEqual(rejected('bad-user-id'));
      });

      it.each<[string, unknown[]]>([
        ['a number', ['alice', 7]],
        ['an empty string', ['alice', '']],
        ['a control character', ['alice', 'bob\r']],
        ['over 256 characters', ['alice', 'u'.repeat(257)]],
        ['null', [null]],
      ])('should reject userIds containing %s', (_, userIds) => {
        expect(parse({ type: 't', data: 1, userIds })).toEqual(rejected('bad-user-id'));
      });
    });

    it('should report the first problem in contract order', () => {
      expect(parse({ type: 'error', userId: 7 })).toEqual(rejected('reserved-type'));
      expect(parse({ type: 't', userId: 7 })).toEqual(rejected('missing-data'));
      expect(parse({ type: 't', data: 1, userId: 7, broadcast: true })).toEqual(rejected('bad-addressing'));
    });
  });

  describe('prototype keys', () => {
    afterEach(() => {
      for (const name of ['userId', 'userIds', 'broadcast', 'type', 'data', 'polluted']) {
        delete (Object.prototype as Record<string, unknown>)[name];
      }
    });

    it('should not pollute Object.prototype through __proto__ or constructor', () => {
      const text =
        '{"type":"t","data":{"__proto__":{"polluted":1}},"broadcast":true,' +
        '"__proto__":{"polluted":true,"userId":"mallory"},"constructor":{"prototype":{"polluted":true}}}';

      const result = parseRecordValue(Buffer.from(text), MAX_BYTES);

      expect(result).toEqual<ParseResult>({
        ok: true,
        content: { type: 't', data: '{"__proto__":{"polluted":1}}', audience: { kind: 'broadcast' } },
      });
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
    });

    it.each([
      '{"type":"t","data":1,"__proto__":{"userId":"mallory"}}',
      '{"type":"t","data":1,"__proto__":{"broadcast":true}}',
      '{"type":"t","data":1,"constructor":{"userIds":["mallory"]}}',
    ])('should not count addressing nested under a prototype key: %s', (text) => {
      expect(parseRecordValue(Buffer.from(text), MAX_BYTES)).toEqual(rejected('bad-addressing'));
    });

    it('should not read type or data through __proto__', () => {
      expect(
        parseRecordValue(Buffer.from('{"__proto__":{"type":"t","data":1},"broadcast":true}'), MAX_BYTES),
      ).toEqual(rejected('bad-type'));
      expect(
        parseRecordValue(Buffer.from('{"type":"t","__proto__":{"data":1},"broadcast":true}'), MAX_BYTES),
      ).toEqual(rejected('missing-data'));
    });

    it('should read only own fields even when Object.prototype is already polluted', () => {
      let result: ParseResult;
      try {
        Object.assign(Object.prototype, { userId: 'mallory', broadcast: true });
        result = parse({ type: 't', data: 1 });
      } finally {
        delete (Object.prototype as Record<string, unknown>)['userId'];
        delete (Object.prototype as Record<string, unknown>)['broadcast'];
      }

      expect(result).toEqual(rejected('bad-addressing'));
    });
  });

  describe('arbitrary input', () => {
    function* lcg(seed: number): Generator<number> {
      let state = seed >>> 0;
      for (;;) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        yield state >>> 24;
      }
    }

    const FRAGMENTS = [
      '{',
      '}',
      '[',
      ']',
      ',',
      ':',
      '"type"',
      '"data"',
      '"userId"',
      '"userIds"',
      '"broadcast"',
      '"error"',
      '"t"',
      '"__proto__"',
      'true',
      'false',
      'null',
      '1',
      '"\\u2028"',
      '"\\n"',
      ' ',
      '"é"',
      '\u00ff',
    ];

    const randomBytes = (next: () => number, length: number): Buffer =>
      Buffer.from(Array.from({ length }, next));
    const randomJsonish = (next: () => number, length: number): Buffer =>
      Buffer.from(Array.from({ length }, () => FRAGMENTS[next() % FRAGMENTS.length]).join(''));

    it('should never throw, and always return a known outcome', () => {
      const random = lcg(20240601);
      const next = (): number => random.next().value as number;
      const seen = new Set<string>();

      for (let i = 0; i < 600; i++) {
        const length = next() % 96;
        const value = i % 2 === 0 ? randomBytes(next, length) : randomJsonish(next, length);

        const result = parseRecordValue(value, 48);

        if (result.ok) {
          expect(typeof result.content.type).toBe('string');
          expect(typeof result.content.data).toBe('string');
          seen.add('ok');
        } else {
          expect(INVALID_RECORD_REASONS).toContain(result.reason);
          seen.add(result.reason);
        }
      }

      expect([...seen]).toEqual(expect.arrayContaining(['too-large', 'not-utf8', 'not-json']));
    });
  });
});
