import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { useGatewaySuite } from './support/gateway-suite.js';
import { mapConcurrently, probe, type ProbeAnswer } from './support/http-probe.js';
import { TestStream } from './support/sse-client.js';
import { blockProblem } from './support/sse-parse.js';
import { TEST_TOPICS } from './support/test-topics.mjs';
import { signToken } from './support/tokens.js';
import { waitFor } from './support/wait-for.js';

/**
 * The stream endpoint under a few hundred generated requests: odd, long, repeated, malformed and
 * unicode `topics`, `lastEventId` and `ticket` parameters and `Authorization`, `Cookie` and
 * `Last-Event-ID` headers. Every answer is a JSON 4xx or a stream that starts with a proper SSE
 * block, within a deadline, and matches what a small model of the HTTP contract expects.
 */

const SEED = 7_340_033;
const CASES = 400;
const CONCURRENCY = 16;
const DEADLINE_MS = 8000;
/** Node refuses a request head over 16 KiB (431) before the application sees it. */
const MAX_HEAD_BYTES = 16 * 1024;

type Credential = 'valid' | 'narrow' | 'bad';
type Param = readonly [name: string, value: string, encoding: 'encoded' | 'raw'];

interface Case {
  readonly auth: { text: string; kind: Credential } | undefined;
  readonly ticket: { values: readonly string[]; kind: Credential } | undefined;
  readonly cookie: { text: string; session: Credential | undefined } | undefined;
  readonly topics: Param[];
  readonly lastEventIds: Param[];
  readonly lastEventIdHeader: string | undefined;
}

// --- Generated values -------------------------------------------------------------------------

/** Placeholders, swapped for real credentials of a user of each case's own. */
const VALID = '{valid}';
const NARROW = '{narrow}';
const TICKET = '{ticket}';
const NARROW_TICKET = '{narrow-ticket}';

/** ISO-8859-1 text fetch sends as a header value: no controls, no DEL. */
const latin1Text = (maxLength: number) =>
  fc.string({
    unit: fc
      .integer({ min: 0x20, max: 0xff })
      .map((code) => String.fromCharCode(code === 0x7f ? 0x3f : code)),
    maxLength,
  });
const unicodeText = (maxLength: number) =>
  fc.string({
    unit: fc.oneof(
      fc.constantFrom(
        'é',
        '😀',
        '世',
        '\u2028',
        '\u0085',
        '\ufeff',
        '\u00a0',
        '\r',
        '\n',
        '\u0000',
        ',',
        ' ',
        '"',
        '%',
      ),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
    ),
    maxLength,
  });
const long = (alphabet: string) =>
  fc
    .integer({ min: 1000, max: 12_000 })
    .map((length) => alphabet.repeat(Math.ceil(length / alphabet.length)).slice(0, length));
const garbageToken = fc.oneof(
  fc.constantFrom('a.b.c', 'eyJhbGciOiJub25lIn0.e30.', '...', 'x', 'null', '{}', '-_-'),
  fc.base64String({ maxLength: 200 }).map((text) => text.replace(/=/g, '')),
  long('abc.'),
);

const authHeader = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .constantFrom(`Bearer ${VALID}`, `bearer ${VALID}`, `BEARER   ${VALID}`)
      .map((text) => ({ text, kind: 'valid' as const })),
  },
  { weight: 1, arbitrary: fc.constant({ text: `Bearer ${NARROW}`, kind: 'narrow' as const }) },
  {
    weight: 3,
    arbitrary: fc
      .oneof(
        garbageToken.map((token) => `Bearer ${token}`),
        fc.constantFrom(
          'Bearer',
          'Basic YWxpY2U6cGFzcw==',
          `Bearer ${VALID} ${VALID}`,
          `Bearer\t${VALID}`,
          `Token ${VALID}`,
          'Bearer é',
          `Bearer ${VALID}!`,
        ),
        latin1Text(64).map((text) => `Bearer ${text}`),
        latin1Text(64).filter((text) => text.trim() !== ''),
      )
      .map((text) => ({ text, kind: 'bad' as const })),
  },
);

const ticketParam = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ values: [TICKET], kind: 'valid' as const }) },
  { weight: 1, arbitrary: fc.constant({ values: [NARROW_TICKET], kind: 'narrow' as const }) },
  {
    weight: 3,
    arbitrary: fc
      .oneof(
        garbageToken.map((ticket) => [ticket]),
        fc.constant(['']),
        fc.constant([TICKET, TICKET]),
        fc.constant([TICKET, 'x']),
        unicodeText(30)
          .filter((text) => text !== '')
          .map((text) => [text]),
        fc.constant([VALID]),
      )
      .map((values) => ({ values, kind: 'bad' as const })),
  },
);

/** Cookie headers as pieces; the first `session` piece is the one the gateway reads. */
const NOISE_COOKIES = [
  'theme=dark',
  '__proto__=x',
  'constructor=1',
  'x="quoted"',
  'empty=',
  '=novalue',
  'weird=%E0%A4%A',
  ';;',
  'a=b=c',
  'sessionx=1',
];
const cookieHeader = fc
  .record({
    session: fc.option(fc.constantFrom<Credential>('valid', 'valid', 'narrow', 'bad'), { freq: 3 }),
    garbage: garbageToken,
    noise: fc.array(
      fc.oneof(
        fc.constantFrom(...NOISE_COOKIES),
        latin1Text(20).map((text) => text.replace(/[;=]/g, '') + '=v'),
      ),
      { maxLength: 5 },
    ),
    at: fc.nat(5),
    duplicate: fc.boolean(),
  })
  .map(({ session, garbage, noise, at, duplicate }) => {
    const pieces = [...noise];
    if (session !== null) {
      const value =
        session === 'valid' ? VALID : session === 'narrow' ? NARROW : garbage.replace(/[;\s]/g, '') || 'x';
      pieces.splice(Math.min(at, pieces.length), 0, `session=${value}`);
      if (duplicate) pieces.push(`session=${session === 'bad' ? VALID : 'garbage'}`);
    }
    return { text: pieces.join('; '), session: session ?? undefined };
  });

const topicValue: fc.Arbitrary<Param> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .subarray([...TEST_TOPICS], { minLength: 1 })
      .map((topics) => ['topics', topics.join(','), 'encoded'] as const),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(' orders , chat ', 'orders,,orders', ',', ' , ,', '', 'orders\u00a0', '\ufefforders')
      .map((value) => ['topics', value, 'encoded'] as const),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        'nope',
        'orders,nope',
        '__proto__',
        'constructor',
        'ORDERS',
        'orders\u0000',
        'orders\r\nevent: x',
      )
      .map((value) => ['topics', value, 'encoded'] as const),
  },
  { weight: 1, arbitrary: unicodeText(20).map((value) => ['topics', value, 'encoded'] as const) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('%E0%A4%A', '%', '%zz', '%F0%9F%98', 'orders%2', '%00orders', 'or%64ers')
      .map((value) => ['topics', value, 'raw'] as const),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(4095, 4096, 4097, 9000)
      .map((length) => ['topics', `orders${','.repeat(length - 6)}`, 'encoded'] as const),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      ['topics[]', 'orders', 'encoded'] as const,
      ['topics[0]', 'nope', 'encoded'] as const,
      ['Topics', 'nope', 'encoded'] as const,
    ),
  },
);

const lastEventIdValue = fc.oneof(
  fc.constantFrom(
    '',
    'garbage',
    'orders:0.0.0',
    'orders:9223372036854775807.0.0',
    'orders:9223372036854775808',
    'orders:-1',
    'orders/1/2;orders:3.3.3',
    'payments:0',
    'orders:.....................5',
    'chat:0,chat:1',
    'notifications:' + '0.'.repeat(3000),
    ';',
    '%E0%A4%A',
  ),
  unicodeText(40),
  long('orders:1.'),
);
const lastEventIdParams = fc.array(
  lastEventIdValue.map((value) => ['lastEventId', value, 'encoded'] as const),
  { maxLength: 2 },
);
/**
 * fetch sends header values of ISO-8859-1 text without controls or DEL only, and so does Node's
 * parser take them; the others are tried on a raw socket below.
 */
const headerSafe = (text: string): string => text.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');

const generatedCase: fc.Arbitrary<Case> = fc.record({
  auth: fc.option(authHeader, { freq: 2, nil: undefined }),
  ticket: fc.option(ticketParam, { freq: 2, nil: undefined }),
  cookie: fc.option(cookieHeader, { freq: 2, nil: undefined }),
  topics: fc.array(topicValue, { maxLength: 3 }),
  lastEventIds: lastEventIdParams,
  lastEventIdHeader: fc.option(lastEventIdValue.map(headerSafe), { freq: 3, nil: undefined }),
});

// --- What the contract says the answer is -----------------------------------------------------

/** The user a case's credentials give, by the documented precedence, or why there is none. */
function expectedUser(c: Case): Credential | 'none' {
  if (c.auth) return c.auth.kind;
  if (c.ticket) return c.ticket.kind;
  if (c.cookie?.session) return c.cookie.session;
  return 'none';
}

function decoded([, value, encoding]: Param): string | undefined {
  if (encoding === 'encoded') return value;
  try {
    return decodeURIComponent(value);
  } catch {
    // Malformed escapes come out as some text that is not a topic name.
    return undefined;
  }
}

/** The status the contract gives a case; undefined where the model does not say. */
function expectedStatus(c: Case): number | undefined {
  const credential = expectedUser(c);
  if (credential === 'none' || credential === 'bad') return 401;
  const topics = c.topics.filter(([name]) => name === 'topics');
  if (topics.length === 0) return 200;
  const values = topics.map(decoded);
  if (values.includes(undefined)) return 400;
  const joined = values.join(',');
  if (joined.length > 4096) return 400;
  const names = [...new Set(joined.split(',').map((name) => name.trim()))].filter((name) => name !== '');
  if (names.length === 0) return 200;
  if (names.some((name) => !TEST_TOPICS.includes(name))) return 400;
  if (credential === 'narrow' && names.some((name) => name !== 'orders')) return 403;
  return 200;
}

// --- The test ---------------------------------------------------------------------------------

describe('HTTP fuzzing of GET /events (e2e)', () => {
  const suite = useGatewaySuite();
  const run = randomUUID().slice(0, 8);

  async function ticketFor(token: string): Promise<string> {
    const response = await fetch(`${suite.gateway.url}/events/tickets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    return ((await response.json()) as { ticket: string }).ticket;
  }

  /** The request a case stands for, with real credentials for a user of its own. */
  async function requestFor(
    c: Case,
    index: number,
  ): Promise<{ url: string; headers: Array<[string, string]> }> {
    const sub = `fuzz-${run}-${index}`;
    const valid = await signToken({ sub });
    const narrow = await signToken({ sub, topics: ['orders'] });
    const fill = async (text: string): Promise<string> => {
      let filled = text.split(VALID).join(valid).split(NARROW).join(narrow);
      if (filled.includes(TICKET)) filled = filled.split(TICKET).join(await ticketFor(valid));
      if (filled.includes(NARROW_TICKET)) filled = filled.split(NARROW_TICKET).join(await ticketFor(narrow));
      return filled;
    };
    const params: Param[] = [...c.topics, ...c.lastEventIds];
    for (const value of c.ticket?.values ?? []) params.push(['ticket', await fill(value), 'encoded']);
    const query = params
      .map(
        ([name, value, encoding]) =>
          `${encodeURIComponent(name)}=${encoding === 'raw' ? value : encodeURIComponent(value)}`,
      )
      .join('&');
    const headers: Array<[string, string]> = [['accept', 'text/event-stream']];
    if (c.auth) headers.push(['authorization', headerSafe(await fill(c.auth.text))]);
    if (c.cookie) headers.push(['cookie', headerSafe(await fill(c.cookie.text))]);
    if (c.lastEventIdHeader !== undefined) headers.push(['last-event-id', c.lastEventIdHeader]);
    return { url: `${suite.gateway.url}/events${query ? `?${query}` : ''}`, headers };
  }

  /** Problems with an answer, whatever the request: never a 5xx, JSON errors, proper streams. */
  function answerProblems(answer: ProbeAnswer): string[] {
    const problems: string[] = [];
    if (answer.status >= 500) problems.push(`a ${answer.status}`);
    if (answer.status === 200) {
      if (!answer.contentType.includes('text/event-stream')) problems.push(`a 200 of ${answer.contentType}`);
      const block = answer.firstBlock;
      if (!block) problems.push('a stream without a first block');
      else {
        const problem = blockProblem(block);
        if (problem) problems.push(`a first block with ${problem}`);
        if (
          block.map((field) => field.name).join(',') !== 'event,id,retry,data' ||
          block[0]?.value !== 'checkpoint'
        )
          problems.push(`a first block that is not the opening checkpoint: ${JSON.stringify(block)}`);
      }
    } else if (answer.status >= 400 && answer.status < 500) {
      if (!answer.contentType.includes('application/json'))
        problems.push(`a ${answer.status} of ${answer.contentType}`);
      if ((answer.json as { statusCode?: unknown } | undefined)?.statusCode !== answer.status)
        problems.push(`a ${answer.status} whose body says ${JSON.stringify(answer.json)}`);
    } else {
      problems.push(`an unexpected ${answer.status}`);
    }
    return problems;
  }

  it(`should answer ${CASES} generated requests with a JSON 4xx or a proper stream, as the contract says`, async () => {
    const cases = fc.sample(generatedCase, { numRuns: CASES, seed: SEED });
    const seen = new Map<number, number>();

    const failures = (
      await mapConcurrently(cases, CONCURRENCY, async (c, index) => {
        const { url, headers } = await requestFor(c, index);
        // fetch adds a few headers of its own, so near the limit the model does not say.
        const head =
          url.length + headers.reduce((sum, [name, value]) => sum + name.length + value.length + 4, 0);
        const answer = await probe(url, { headers, deadlineMs: DEADLINE_MS });
        seen.set(answer.status, (seen.get(answer.status) ?? 0) + 1);
        if (head > MAX_HEAD_BYTES - 1024) {
          if (answer.status === 431 || head < MAX_HEAD_BYTES + 1024)
            return answer.status >= 500 ? [`a ${answer.status}`] : [];
          return [`case ${index}: ${answer.status} for a head of ${head} bytes, over Node's limit`];
        }
        const problems = answerProblems(answer);
        const expected = expectedStatus(c);
        if (expected !== undefined && answer.status !== expected)
          problems.push(
            `${answer.status} where the contract says ${expected}: ${JSON.stringify(answer.json ?? '')}`,
          );
        return problems.map(
          (problem) => `case ${index} (seed ${SEED}) ${JSON.stringify(c).slice(0, 400)}: ${problem}`,
        );
      })
    ).flat();

    expect(failures).toEqual([]);
    // The generator reaches every answer the endpoint can give.
    expect([...seen.keys()].sort((a, b) => a - b)).toEqual([200, 400, 401, 403, 431]);
    expect((seen.get(431) ?? 0) / CASES).toBeLessThan(0.2);
  }, 120_000);

  it('should answer fixed edge cases the same way', async () => {
    const token = await signToken({ sub: `fuzz-${run}-fixed` });
    const auth = { authorization: `Bearer ${token}` };
    const cases: Array<[string, Record<string, string>, number]> = [
      ['?topics=orders&topics=chat', auth, 200],
      ['?topics=orders&topics=nope', auth, 400],
      ['?topics=%F0%9F%98%80', auth, 400],
      ['?topics=orders%0D%0Aevent:%20forged', auth, 400],
      [`?topics=${'x'.repeat(14_000)}`, auth, 400],
      ['?lastEventId=a&lastEventId=b', auth, 200],
      [`?lastEventId=${'orders:1.'.repeat(1500)}`, auth, 200],
      ['?ticket=a&ticket=b', {}, 401],
      ['?ticket=', { cookie: `session=${token}` }, 401],
      ['', { ...auth, 'last-event-id': 'x'.repeat(14_000) }, 200],
      ['', { authorization: `Bearer ${'a'.repeat(14_000)}` }, 401],
      ['', { cookie: `session=${'a'.repeat(14_000)}` }, 401],
      ['', { cookie: `${'a=b; '.repeat(2000)}session=${token}` }, 200],
      ['', { cookie: `session=${token}; session=garbage` }, 200],
      ['', { cookie: `session=garbage; session=${token}` }, 401],
      ['', { cookie: 'session=%E0%A4%A' }, 401],
      ['', { ...auth, 'last-event-id': 'ÿþ' }, 200],
    ];

    for (const [query, headers, status] of cases) {
      const answer = await probe(`${suite.gateway.url}/events${query}`, { headers, deadlineMs: DEADLINE_MS });
      expect([query.slice(0, 60), Object.keys(headers), answerProblems(answer)]).toEqual([
        query.slice(0, 60),
        Object.keys(headers),
        [],
      ]);
      expect([query.slice(0, 60), answer.status]).toEqual([query.slice(0, 60), status]);
    }
  });

  /**
   * What fetch refuses to send (CR, LF, NUL in a header, raw non-ASCII in the request target, a
   * head over 16 KiB) goes through a socket. Node's HTTP parser answers these itself, before the
   * application sees them: a 400 or 431 without a body, and the connection closed.
   */
  it.each<[string, string, number]>([
    ['a bare CR in Authorization', 'Authorization: Bearer x\rLast-Event-ID: forged\r\n', 400],
    ['a bare LF in Last-Event-ID', 'Last-Event-ID: a\nevent: forged\r\n', 400],
    ['a NUL in Cookie', 'Cookie: session=a\u0000b\r\n', 400],
    ['a DEL in Last-Event-ID', 'Last-Event-ID: a\u007fb\r\n', 400],
    ['a control character in Authorization', 'Authorization: Bearer a\u0001b\r\n', 400],
    ['an obsolete folded header', 'Last-Event-ID: a\r\n folded\r\n', 400],
    ['a head over 16 KiB', `Last-Event-ID: ${'a'.repeat(MAX_HEAD_BYTES)}\r\n`, 431],
  ])('should have %s refused by the HTTP parser, never a 5xx or a hang', async (_, header, status) => {
    const answer = await rawRequest(
      suite.gateway.url,
      `GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n${header}\r\n`,
    );

    expect(answer).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
  });

  it('should take a duplicated Authorization header as its first one', async () => {
    const first = await signToken({ sub: `fuzz-${run}-first` });
    const answer = await rawRequest(
      suite.gateway.url,
      `GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${first}\r\nAuthorization: Bearer garbage\r\nConnection: close\r\n\r\n`,
      (text) => text.includes('event: checkpoint'),
    );

    expect(answer).toMatch(/^HTTP\/1.1 200 /);
  });

  describe('POST /events with odd bodies', () => {
    const DEPTH = 5000;
    const deepArray = (depth: number, inner = '1') => '['.repeat(depth) + inner + ']'.repeat(depth);
    const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    const event = (fields: string) => `{"type":"notification",${fields}}`;

    async function post(body: string, sub = `fuzz-${run}-publisher`): Promise<ProbeAnswer> {
      const token = await signToken({ sub, scope: 'events:publish' });
      return postRaw(`${suite.gateway.url}/events`, body, token);
    }

    it.each<[string, string, string[]]>([
      [
        `a data array ${DEPTH} deep`,
        event(`"data":${deepArray(DEPTH)},"userId":"a"`),
        ['data is nested too deeply'],
      ],
      [
        `a data object ${DEPTH} deep`,
        event(`"data":${deepObject(DEPTH)},"userId":"a"`),
        ['data is nested too deeply'],
      ],
      [`a bare array ${DEPTH} deep`, deepArray(DEPTH), ['the body must be a JSON object']],
      ['an array of events', `[${event('"data":1,"userId":"a"')}]`, ['the body must be a JSON object']],
      ['an empty array', '[]', ['the body must be a JSON object']],
      [
        `a field the contract ignores, ${DEPTH} deep`,
        event(`"data":1,"userId":"a","extra":${deepArray(DEPTH)}`),
        ['the body is nested too deeply'],
      ],
      [
        `userIds ${DEPTH} deep`,
        event(`"data":1,"userIds":${deepArray(DEPTH, '"a"')}`),
        [
          'user ids must be strings of 1-256 characters without control characters',
          'the body is nested too deeply',
        ],
      ],
      [
        `a topic ${DEPTH} deep`,
        event(`"data":1,"userId":"a","topic":${deepArray(DEPTH, '"orders"')}`),
        ['topic must be one of: notifications, orders, chat'],
      ],
      [
        `a key ${DEPTH} deep`,
        event(`"data":1,"userId":"a","key":${deepArray(DEPTH, '"k"')}`),
        ['key must be a string of 1-256 characters'],
      ],
    ])('should answer %s with a JSON 400 naming the problem', async (_, body, message) => {
      const answer = await post(body);

      expect([answer.status, answer.contentType, answer.json]).toEqual([
        400,
        expect.stringContaining('application/json'),
        { statusCode: 400, error: 'Bad Request', message },
      ]);
    });

    it.each(['"a string"', '42', 'null', 'true', '{"type":', '{"__proto__":{"type":"x"}}', ''])(
      'should answer the body %p with a JSON 4xx',
      async (body) => {
        const answer = await post(body);

        expect(answer.status).toBeGreaterThanOrEqual(400);
        expect(answer.status).toBeLessThan(500);
        expect((answer.json as { statusCode?: unknown } | undefined)?.statusCode).toBe(answer.status);
      },
    );

    it('should answer 100 generated JSON bodies with a JSON 400 or a 201, never a 5xx', async () => {
      const bodies = fc.sample(
        fc.oneof(
          fc.jsonValue({ depthSize: 'large' }).map((value) => JSON.stringify(value)),
          fc
            .record({
              type: fc.oneof(fc.constantFrom('notification', 'reset', ''), fc.string()),
              data: fc.jsonValue(),
              userId: fc.oneof(fc.string(), fc.jsonValue()),
              topic: fc.oneof(fc.constantFrom(...TEST_TOPICS, 'nope'), fc.jsonValue()),
              depth: fc.integer({ min: 1, max: 20_000 }),
            })
            .map(({ depth, ...fields }) => JSON.stringify(fields).replace(/}$/, `,"x":${deepArray(depth)}}`)),
        ),
        { numRuns: 100, seed: SEED },
      );

      const failures = (
        await mapConcurrently(bodies, CONCURRENCY, async (body, index) => {
          const answer = await post(body, `fuzz-${run}-generated-${index}`);
          const problems = [];
          if (answer.status !== 201 && answer.status !== 400) problems.push(`a ${answer.status}`);
          if (
            (answer.json as { statusCode?: unknown } | undefined)?.statusCode !== answer.status &&
            answer.status !== 201
          )
            problems.push(`a body of ${JSON.stringify(answer.json)}`);
          return problems.map((problem) => `body ${index} ${body.slice(0, 120)}: ${problem}`);
        })
      ).flat();

      expect(failures).toEqual([]);
    }, 60_000);
  });

  it('should still serve a normal stream afterwards', async () => {
    const sub = `fuzz-${run}-after`;
    const stream = suite.track(
      new TestStream(`${suite.gateway.url}/events`, {
        headers: { authorization: `Bearer ${await signToken({ sub })}` },
      }),
    );

    await stream.waitForOpen();
    await suite.producer.send('notifications', [
      { type: 'notification', data: { after: true }, userId: sub },
    ]);
    const event = await stream.waitForEvent((received) => received.type === 'notification');
    expect(event.data).toEqual({ after: true });
  });
});

/**
 * Writes `request` as latin1 bytes on a socket of its own and returns what came back once the
 * server closed, or once `done` says the answer is complete; fails after a deadline.
 */
async function rawRequest(base: string, request: string, done?: (text: string) => boolean): Promise<string> {
  const { port } = new URL(base);
  const socket = connect(Number(port), '127.0.0.1');
  let text = '';
  let closed = false;
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => (text += chunk));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  socket.write(Buffer.from(request, 'latin1'));
  try {
    await waitFor(() => closed || (done?.(text) ?? false), 'the server to answer', DEADLINE_MS);
  } finally {
    socket.destroy();
  }
  return text;
}

/** A POST of `body` as it is, application/json, with a bearer token; answered in full. */
function postRaw(url: string, body: string, token: string): Promise<ProbeAnswer> {
  return probe(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body,
    deadlineMs: DEADLINE_MS,
  });
}
