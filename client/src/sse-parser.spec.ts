import type { SseBlock } from './sse-connection.js';
import { sseParser } from './sse-parser.js';

describe(sseParser.name, () => {
  const parse = (...chunks: string[]) => {
    const blocks: SseBlock[] = [];
    const retries: number[] = [];
    const feed = sseParser(
      (block) => blocks.push(block),
      (ms) => retries.push(ms),
    );
    chunks.forEach(feed);
    return { blocks, retries };
  };

  it('should dispatch a block at a blank line, with its type, data and id', () => {
    expect(parse('event: order.created\nid: orders/0/1;c\ndata: {"n":1}\n\n').blocks).toEqual([
      { type: 'order.created', data: '{"n":1}', id: 'orders/0/1;c' },
    ]);
  });

  it('should call a block without a type a message, and give it no id without an id field', () => {
    expect(parse('data: x\n\n').blocks).toEqual([{ type: 'message', data: 'x', id: undefined }]);
  });

  it('should join data lines with LF, and take a value without the space after the colon', () => {
    expect(parse('data:a\ndata: b\ndata\n\n').blocks).toEqual([
      { type: 'message', data: 'a\nb\n', id: undefined },
    ]);
  });

  it.each([
    ['CRLF', '\r\n'],
    ['CR', '\r'],
    ['LF', '\n'],
  ])('should end lines with %s', (_name, end) => {
    expect(parse(`event: e${end}data: 1${end}${end}data: 2${end}${end}`).blocks.map((b) => b.data)).toEqual([
      '1',
      '2',
    ]);
  });

  it('should parse the same however the text is split, a CRLF between two chunks included', () => {
    const text = 'event: e\r\nid: 1\r\ndata: é€😀\r\n\r\n:comment\r\ndata: 2\r\n\r\n';
    const whole = parse(text).blocks;
    for (let at = 0; at <= text.length; at++) {
      expect(parse(text.slice(0, at), text.slice(at)).blocks).toEqual(whole);
    }
    expect(parse(...text.split('')).blocks).toEqual(whole);
    expect(whole).toHaveLength(2);
  });

  it('should dispatch a block with empty data (the gateway’s checkpoints), and none without data', () => {
    expect(parse('event: checkpoint\nid: t=AQI\ndata: \n\nevent: x\nid: 7\n\n').blocks).toEqual([
      { type: 'checkpoint', data: '', id: 't=AQI' },
    ]);
  });

  it('should ignore comments, unknown fields, an id with NUL and a retry that is not digits', () => {
    const { blocks, retries } = parse(': hi\nfoo: bar\nid: a\0b\nretry: 1e3\nretry: 1500\ndata: x\n\n');

    expect(blocks).toEqual([{ type: 'message', data: 'x', id: undefined }]);
    expect(retries).toEqual([1500]);
  });

  it('should drop a byte order mark at the start of the stream only', () => {
    expect(parse('\ufeffdata: a\n\n', '\ufeffdata: b\n\n').blocks.map((b) => b.data)).toEqual(['a']);
  });

  it('should keep a line that has not ended for the next chunk', () => {
    expect(parse('data: a').blocks).toEqual([]);
    expect(parse('data: a', '\n\n').blocks).toHaveLength(1);
  });
});
