import { GatewayError } from '../common/gateway-error.js';
import { LogPosition } from '../log/log-position.js';
import { streamRequest } from './stream-request.js';

describe(streamRequest.name, () => {
  it.each<[unknown, string | undefined]>([
    [undefined, undefined],
    ['', undefined],
    ['gw-2', 'gw-2'],
    [['gw-1', 'gw-2'], 'gw-2'],
    [{ nested: 'x' }, undefined],
  ])('should read the node %p as %p', (node, named) => {
    expect(streamRequest({ node }, undefined).node).toBe(named);
  });

  it('should read the topics asked for, and refuse a topics query that is not text with a 400', () => {
    expect(streamRequest({ topics: 'orders, chat,,orders' }, undefined).topics).toEqual(['orders', 'chat']);
    expect(streamRequest({}, undefined).topics).toBeUndefined();
    expect(() => streamRequest({ topics: { a: 1 } }, undefined)).toThrow(GatewayError);
  });

  it('should resume from Last-Event-ID before ?lastEventId=, and tell a malformed id from none', () => {
    const id = 'orders/0/4;orders=AQU';

    expect(streamRequest({ lastEventId: 'orders=AQE' }, id).resumeFrom).toEqual({
      kind: 'cursor',
      cursor: LogPosition.parse(id),
    });
    expect(streamRequest({ lastEventId: ['x', id] }, '').resumeFrom.kind).toBe('cursor');
    expect(streamRequest({ lastEventId: 'not an id' }, undefined).resumeFrom).toEqual({ kind: 'malformed' });
    expect(streamRequest({}, undefined).resumeFrom).toEqual({ kind: 'live' });
  });
});
