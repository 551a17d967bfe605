import type { Request } from 'express';
import { GatewayError } from '../common/gateway-error.js';
import { readBearer, readCredentials, type Credentials } from './credentials.js';

const COOKIE = 'access_token';
const MALFORMED_AUTHORIZATION = 'Authorization must be "Bearer <token>"';

function requestWith(headers: Record<string, string> = {}, query: Record<string, unknown> = {}): Request {
  return { headers, query } as unknown as Request;
}

function unauthorizedMessage(read: () => unknown): string {
  try {
    read();
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).status).toBe(401);
    return (err as GatewayError).message;
  }
  throw new Error('expected a 401 GatewayError');
}

describe('readBearer', () => {
  it('should return undefined without an Authorization header', () => {
    expect(readBearer(requestWith())).toBeUndefined();
  });

  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['Bearer   spaced', 'spaced'],
    ['Bearer a-b_c~d+e/f.g', 'a-b_c~d+e/f.g'],
    ['Bearer dG9rZW4=', 'dG9rZW4='],
    ['Bearer dG9rZW4==', 'dG9rZW4=='],
  ])('should read %p as the token %p', (header, token) => {
    expect(readBearer(requestWith({ authorization: header }))).toBe(token);
  });

  it.each([
    '',
    'Bearer',
    'Bearer ',
    'Bearertoken',
    'Basic dXNlcjpwYXNz',
    'Token abc',
    'Bearer abc def',
    'Bearer abc ',
    ' Bearer abc',
    'Bearer\tabc',
    'Bearer a=b',
    'Bearer abc,Bearer def',
    'Bearer "abc"',
    'Bearer abc\n',
  ])('should reject the malformed header %p', (header) => {
    expect(unauthorizedMessage(() => readBearer(requestWith({ authorization: header })))).toBe(
      MALFORMED_AUTHORIZATION,
    );
  });
});

describe('readCredentials', () => {
  it('should return undefined when the request presents nothing', () => {
    expect(readCredentials(requestWith(), COOKIE)).toBeUndefined();
  });

  it('should prefer the bearer token over a ticket and a cookie', () => {
    const request = requestWith(
      { authorization: 'Bearer from-header', cookie: `${COOKIE}=from-cookie` },
      { ticket: 'from-query' },
    );

    expect(readCredentials(request, COOKIE)).toEqual<Credentials>({ kind: 'bearer', token: 'from-header' });
  });

  it('should prefer a ticket over a cookie', () => {
    const request = requestWith({ cookie: `${COOKIE}=from-cookie` }, { ticket: 'from-query' });

    expect(readCredentials(request, COOKIE)).toEqual<Credentials>({ kind: 'ticket', ticket: 'from-query' });
  });

  it('should read the cookie among others', () => {
    const request = requestWith({ cookie: `theme=dark; ${COOKIE}=from-cookie; lang=en` });

    expect(readCredentials(request, COOKIE)).toEqual<Credentials>({ kind: 'cookie', token: 'from-cookie' });
  });

  it('should read the cookie named by configuration and ignore the default one', () => {
    const request = requestWith({ cookie: `${COOKIE}=default-name; session=configured-name` });

    expect(readCredentials(request, 'session')).toEqual<Credentials>({
      kind: 'cookie',
      token: 'configured-name',
    });
    expect(readCredentials(requestWith({ cookie: `${COOKIE}=default-name` }), 'session')).toBeUndefined();
  });

  it('should ignore other cookies and an empty cookie', () => {
    expect(readCredentials(requestWith({ cookie: 'theme=dark; other_token=abc' }), COOKIE)).toBeUndefined();
    expect(readCredentials(requestWith({ cookie: `${COOKIE}=` }), COOKIE)).toBeUndefined();
  });

  it.each(['constructor', '__proto__', 'toString'])(
    'should not read the inherited property %p as a cookie',
    (name) => {
      expect(readCredentials(requestWith({ cookie: 'theme=dark' }), name)).toBeUndefined();
    },
  );

  it('should reject a malformed Authorization header rather than fall back to the cookie', () => {
    const request = requestWith({ authorization: 'Basic dXNlcjpwYXNz', cookie: `${COOKIE}=valid-looking` });

    expect(unauthorizedMessage(() => readCredentials(request, COOKIE))).toBe(MALFORMED_AUTHORIZATION);
  });

  it('should reject a malformed Authorization header rather than fall back to a ticket', () => {
    const request = requestWith({ authorization: 'Bearer' }, { ticket: 'a-ticket' });

    expect(unauthorizedMessage(() => readCredentials(request, COOKIE))).toBe(MALFORMED_AUTHORIZATION);
  });

  it.each<[string, unknown]>([
    ['repeated', ['first', 'second']],
    ['empty', ''],
    ['an object', { nested: 'value' }],
  ])('should reject a %s ticket even when a cookie is present', (_, ticket) => {
    const request = requestWith({ cookie: `${COOKIE}=from-cookie` }, { ticket });

    expect(unauthorizedMessage(() => readCredentials(request, COOKIE))).toBe('Malformed ticket');
  });
});

describe('readBearer scheme case', () => {
  // RFC 9110 section 11.1: the authentication scheme is a case-insensitive token.
  it.each(['bearer abc', 'BEARER abc'])('should accept %p', (header) => {
    expect(readBearer(requestWith({ authorization: header }))).toBe('abc');
  });
});
