import { formatFrame, frameOf } from './sse-frame.js';

describe('formatFrame', () => {
  it('should write the fields in the event-stream format', () => {
    expect(formatFrame({ type: 'order.created', id: 'orders/1/2;orders:3', data: '{"a":1}' })).toBe(
      'event: order.created\nid: orders/1/2;orders:3\ndata: {"a":1}\n\n',
    );
    expect(formatFrame({ type: 'checkpoint', id: 'c:1', data: '', retry: 2000 })).toBe(
      'event: checkpoint\nid: c:1\nretry: 2000\ndata: \n\n',
    );
    expect(formatFrame({ comment: '', id: 'c:1', type: 'checkpoint', data: '' })).toBe(
      'event: checkpoint\nid: c:1\n: \ndata: \n\n',
    );
  });

  it('should never let a line break start another field or event', () => {
    const frame = formatFrame({
      type: 'a\r\nevent: b',
      id: 'x\ny',
      data: 'one\r\ntwo\rthree\nfour',
      comment: 'c\nd',
    });

    expect(frame).toBe(
      'event: aevent: b\nid: xy\n: c\n: d\ndata: one\ndata: two\ndata: three\ndata: four\n\n',
    );
    expect(frame.split('\n\n')).toHaveLength(2);
  });

  it('should serialise object data as JSON', () => {
    expect(formatFrame({ data: { a: [1, 2] } })).toBe('data: {"a":[1,2]}\n\n');
  });
});

describe('frameOf', () => {
  it('should format the same message once, and a different one anew', () => {
    const data = '{"n":1}';
    const first = frameOf({ type: 't', id: 'i', data });

    expect(frameOf({ type: 't', id: 'i', data })).toBe(first);
    expect(frameOf({ type: 't', id: 'j', data })).toBe('event: t\nid: j\ndata: {"n":1}\n\n');
    expect(frameOf({ type: 't', id: 'j', data, retry: 5 })).toBe(
      'event: t\nid: j\nretry: 5\ndata: {"n":1}\n\n',
    );
  });
});
