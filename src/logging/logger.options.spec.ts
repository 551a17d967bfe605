import type { IncomingMessage } from 'node:http';
import { loggableUrl, requestIdOf } from './logger.options.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe(loggableUrl.name, () => {
  it.each([
    ['/events?ticket=abc', '/events?ticket=[redacted]'],
    ['/events/?%74icket=abc', '/events/?%74icket=[redacted]'],
    ['/events?topics=a&%74%69%63%6B%65%74=abc&x=1', '/events?topics=a&%74%69%63%6B%65%74=[redacted]&x=1'],
    ['/events?TICKET=abc', '/events?TICKET=[redacted]'],
    ['/events?ticket[]=abc&ticket[0]=def', '/events?ticket[]=[redacted]&ticket[0]=[redacted]'],
    ['/events?ticket+=abc', '/events?ticket+=[redacted]'],
    ['/events?token=abc&access_token=def', '/events?token=[redacted]&access_token=[redacted]'],
    ['/events?%61ccess_token=abc', '/events?%61ccess_token=[redacted]'],
    ['/events?ticket', '/events?ticket=[redacted]'],
    ['/events?ticket=a&ticket=b', '/events?ticket=[redacted]&ticket=[redacted]'],
  ])('should redact %p by the name the query parser reads', (url, logged) => {
    expect(loggableUrl(url)).toBe(logged);
  });

  it.each([
    '/events',
    '/events?topics=orders&lastEventId=x',
    '/events?tickets=1',
    '/events?%E0%A4%A=1',
    '/ticket=x',
  ])('should leave %p as it is', (url) => {
    expect(loggableUrl(url)).toBe(url);
  });
});

describe(requestIdOf.name, () => {
  const request = (id?: string | string[]) =>
    ({ headers: { 'x-request-id': id } }) as unknown as IncomingMessage;

  it.each(['abc', 'req-1.ok_2', 'a'.repeat(128), '6f1c0a52-0f3e-4c53-9bd4-0d5c1f4c8f7e'])(
    "should take the client's well-formed id %p",
    (id) => {
      expect(requestIdOf(request(id))).toBe(id);
    },
  );

  it.each<[string, string | string[] | undefined]>([
    ['none', undefined],
    ['an empty one', ''],
    ['one over 128 characters', 'a'.repeat(129)],
    ['one with spaces', 'spaced id'],
    ['one with quotes', 'x" "level":60'],
    ['one with a line feed', 'a\nb'],
    ['one with non-ASCII letters', 'réq'],
    ['two of them', ['a', 'b']],
  ])('should make up a new id for %s', (_, id) => {
    expect(requestIdOf(request(id))).toMatch(UUID);
  });
});
