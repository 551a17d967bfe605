/**
 * A minimal Server-Sent Events parser after the WHATWG algorithm, for tests that need the fields
 * as they came on the wire (EventSource hides them): lines end at CRLF, CR or LF, a line starting
 * with ":" is a comment, one space after the colon is dropped, a blank line ends a block.
 */
export interface SseField {
  /** The field name; `:` for a comment. */
  readonly name: string;
  readonly value: string;
}

export type SseBlock = readonly SseField[];

export class SseParser {
  private buffer = '';
  private current: SseField[] = [];
  /** Complete blocks, in order; blocks with no field (blank lines) are left out. */
  readonly blocks: SseBlock[] = [];

  /** Feeds decoded text; returns the blocks it completed. */
  push(text: string): SseBlock[] {
    const buffer = this.buffer + text;
    const completed: SseBlock[] = [];
    const lineEnd = /\r\n|\r|\n/g;
    let start = 0;
    for (;;) {
      const match = lineEnd.exec(buffer);
      // A trailing CR may be the first half of a CRLF still on its way.
      if (!match || (match[0] === '\r' && match.index === buffer.length - 1)) break;
      const line = buffer.slice(start, match.index);
      start = match.index + match[0].length;
      if (line === '') {
        if (this.current.length > 0) completed.push(this.current);
        this.current = [];
      } else {
        this.current.push(parseLine(line));
      }
    }
    this.buffer = buffer.slice(start);
    for (const block of completed) this.blocks.push(block);
    return completed;
  }
}

function parseLine(line: string): SseField {
  if (line.startsWith(':')) return { name: ':', value: line.slice(1).replace(/^ /, '') };
  const colon = line.indexOf(':');
  if (colon === -1) return { name: line, value: '' };
  return { name: line.slice(0, colon), value: line.slice(colon + 1).replace(/^ /, '') };
}

/** The value of a block's only `name` field; throws when it has none or several. */
export function only(block: SseBlock, name: string): string {
  const values = block.filter((field) => field.name === name);
  if (values.length !== 1) throw new Error(`expected one "${name}" field in ${JSON.stringify(block)}`);
  return values[0]!.value;
}

/**
 * Whether a block has one of the shapes the gateway writes, field by field: an event (`event`,
 * `id`, one JSON `data` line), a reset (the same, type `reset`), or a checkpoint (`event:
 * checkpoint`, `id`, optional `retry` and comment, an empty `data`). Returns a problem or undefined.
 */
export function blockProblem(block: SseBlock): string | undefined {
  const names = block.map((field) => field.name).join(',');
  const type = block[0]?.name === 'event' ? block[0].value : undefined;
  if (type === 'checkpoint') {
    if (!/^event,id(,retry)?(,:)?,data$/.test(names)) return `checkpoint fields ${names}`;
    if (only(block, 'data') !== '') return 'checkpoint with data';
    if (block.some((field) => field.name === 'retry' && !/^\d+$/.test(field.value))) return 'bad retry';
    return undefined;
  }
  if (names !== 'event,id,data') return `event fields ${names}`;
  try {
    JSON.parse(only(block, 'data'));
  } catch {
    return `data that is not JSON: ${only(block, 'data').slice(0, 80)}`;
  }
  return undefined;
}
