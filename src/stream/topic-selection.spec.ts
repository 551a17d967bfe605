import { GatewayError } from '../common/gateway-error.js';
import { selectTopics as select, topicsQuery } from './topic-selection.js';

/** The topics of a request's `topics` query, selected. */
const selectTopics = (
  configured: readonly string[],
  allowed: readonly string[] | undefined,
  query: unknown,
) => select(configured, allowed, topicsQuery(query));

const CONFIGURED = ['orders', 'chat', 'alerts'];

function errorOf(select: () => unknown): GatewayError {
  try {
    select();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a GatewayError');
}

function expectBadRequest(select: () => unknown, message: string): void {
  const error = errorOf(select);
  expect(error.status).toBe(400);
  expect(error.message).toBe(message);
}

function expectForbidden(select: () => unknown, message: string): void {
  const error = errorOf(select);
  expect(error.code).toBe('topic-forbidden');
  expect(error.status).toBe(403);
  expect(error.message).toBe(message);
}

describe('selectTopics', () => {
  describe('without a topics query', () => {
    it('should select every configured topic, sorted, for a token without a topics claim', () => {
      expect(selectTopics(CONFIGURED, undefined, undefined)).toEqual(['alerts', 'chat', 'orders']);
    });

    it('should not reorder the configured list', () => {
      const configured = [...CONFIGURED];

      selectTopics(configured, undefined, undefined);

      expect(configured).toEqual(CONFIGURED);
    });

    it('should narrow to the topics the claim allows', () => {
      expect(selectTopics(CONFIGURED, ['orders', 'alerts', 'unconfigured'], undefined)).toEqual([
        'alerts',
        'orders',
      ]);
    });

    it.each<[string, string[]]>([
      ['is empty', []],
      ['names only unconfigured topics', ['payments', 'audit']],
    ])('should forbid the stream when the claim %s', (_, allowed) => {
      expectForbidden(
        () => selectTopics(CONFIGURED, allowed, undefined),
        'This token may read none of the topics',
      );
    });

    it.each(['', ',', ' , ,', '   '])('should treat the query %p like no query', (query) => {
      expect(selectTopics(CONFIGURED, ['chat'], query)).toEqual(['chat']);
    });
  });

  describe('with a topics query', () => {
    it('should select the requested topics, sorted', () => {
      expect(selectTopics(CONFIGURED, undefined, 'orders,alerts')).toEqual(['alerts', 'orders']);
    });

    it('should trim whitespace and drop duplicates and empty items', () => {
      expect(selectTopics(CONFIGURED, undefined, ' orders , ,chat,orders,, chat ')).toEqual([
        'chat',
        'orders',
      ]);
    });

    it('should join a repeated query parameter', () => {
      expect(selectTopics(CONFIGURED, undefined, ['orders', 'chat,alerts', 'orders'])).toEqual([
        'alerts',
        'chat',
        'orders',
      ]);
    });

    it('should select requested topics the claim allows', () => {
      expect(selectTopics(CONFIGURED, ['orders', 'chat'], 'chat')).toEqual(['chat']);
    });

    it('should reject unknown topics with their names quoted', () => {
      expectBadRequest(
        () => selectTopics(CONFIGURED, undefined, 'orders,payments,audit'),
        'Unknown topic(s): "payments", "audit"',
      );
    });

    it('should escape quotes and control characters in unknown names', () => {
      expectBadRequest(
        () => selectTopics(CONFIGURED, undefined, 'a"b,c\nd'),
        'Unknown topic(s): "a\\"b", "c\\nd"',
      );
    });

    it('should truncate long unknown names to 64 characters', () => {
      const long = 'x'.repeat(65);

      expectBadRequest(
        () => selectTopics(CONFIGURED, undefined, long),
        `Unknown topic(s): "${'x'.repeat(64)}…"`,
      );
    });

    it('should not truncate a name of 64 characters', () => {
      const name = 'y'.repeat(64);

      expectBadRequest(() => selectTopics(CONFIGURED, undefined, name), `Unknown topic(s): "${name}"`);
    });

    it('should report unknown topics before forbidden ones', () => {
      expectBadRequest(
        () => selectTopics(CONFIGURED, ['chat'], 'orders,payments'),
        'Unknown topic(s): "payments"',
      );
    });

    it('should forbid configured topics outside the claim', () => {
      expectForbidden(
        () => selectTopics(CONFIGURED, ['chat'], 'chat,orders,alerts'),
        'Not allowed to read topic(s): orders, alerts',
      );
    });

    it('should forbid every requested topic when the claim is empty', () => {
      expectForbidden(() => selectTopics(CONFIGURED, [], 'chat'), 'Not allowed to read topic(s): chat');
    });

    it.each<[string, unknown]>([
      ['an object', { orders: 'x' }],
      ['a number', 42],
      ['null', null],
      ['an array with an object', ['orders', { chat: 'x' }]],
      ['a nested array', [['orders']]],
    ])('should reject %s', (_, query) => {
      expectBadRequest(
        () => selectTopics(CONFIGURED, undefined, query),
        'topics must be a comma-separated list of topic names',
      );
    });

    it('should reject a query over 4096 characters', () => {
      expectBadRequest(
        () => selectTopics(CONFIGURED, undefined, `orders,${'x'.repeat(4090)}`),
        'topics is too long',
      );
    });

    it('should measure a repeated parameter joined', () => {
      const half = 'orders,'.repeat(300);

      expectBadRequest(() => selectTopics(CONFIGURED, undefined, [half, half]), 'topics is too long');
    });

    it('should accept a query of 4096 characters', () => {
      const query = `orders${','.repeat(4090)}`;

      expect(query).toHaveLength(4096);
      expect(selectTopics(CONFIGURED, undefined, query)).toEqual(['orders']);
    });
  });
});
