/** One message of the stream, as the SSE format defines it (`type` defaults to `message`). */
export interface SseBlock {
  readonly type: string;
  readonly data: string;
  /** Only when the block carries an `id:` field. */
  readonly id: string | undefined;
}

const LINE = /\r\n|\r|\n/;

/**
 * An event-stream parser as the HTML standard defines it, fed text in chunks however they split:
 * lines end with CRLF, LF or CR; `:` starts a comment; a block is dispatched at a blank line when
 * it has data. Its own (a few hundred bytes) rather than a dependency, for the client's size budget.
 */
export function sseParser(onBlock: (block: SseBlock) => void, onRetry: (ms: number) => void) {
  let pending = '';
  let first = true;
  let afterCR = false;
  let type = '';
  let data = '';
  let id: string | undefined;

  const line = (text: string) => {
    if (text === '') {
      if (data !== '') onBlock({ type: type || 'message', data: data.slice(0, -1), id });
      type = data = '';
      id = undefined;
      return;
    }
    const colon = text.indexOf(':');
    if (colon === 0) return;
    const field = colon === -1 ? text : text.slice(0, colon);
    const value = colon === -1 ? '' : text.slice(text[colon + 1] === ' ' ? colon + 2 : colon + 1);
    if (field === 'event') type = value;
    else if (field === 'data') data += `${value}\n`;
    else if (field === 'id' && !value.includes('\0')) id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) onRetry(Number(value));
  };

  return (chunk: string): void => {
    // A CR that ended the last chunk ended its line: an LF that follows belongs to it.
    if (afterCR && chunk.startsWith('\n')) chunk = chunk.slice(1);
    afterCR = chunk.endsWith('\r');
    const lines = (pending + chunk).split(LINE);
    if (first && lines[0] !== '') {
      first = false;
      lines[0] = lines[0]!.replace(/^\ufeff/, '');
    }
    pending = lines.pop()!;
    lines.forEach(line);
  };
}
