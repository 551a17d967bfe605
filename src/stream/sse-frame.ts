import type { MessageEvent } from '@nestjs/common';

const LINE_BREAK = /\r\n|\r|\n/;
const CR_LF = /[\r\n]/g;

/** The field text of one SSE message, as the event-stream format defines it. */
export function formatFrame(message: MessageEvent): string {
  let frame = '';
  if (message.type !== undefined) frame += `event: ${message.type.replace(CR_LF, '')}\n`;
  if (message.id !== undefined) frame += `id: ${message.id.replace(CR_LF, '')}\n`;
  if (message.retry !== undefined) frame += `retry: ${Math.trunc(message.retry)}\n`;
  if (message.comment !== undefined) frame += prefixLines(message.comment, ': ');
  if (message.data !== undefined) {
    frame += prefixLines(
      typeof message.data === 'string' ? message.data : JSON.stringify(message.data),
      'data: ',
    );
  }
  return `${frame}\n`;
}

function prefixLines(text: string, prefix: string): string {
  if (!LINE_BREAK.test(text)) return `${prefix}${text}\n`;
  return text
    .split(LINE_BREAK)
    .map((line) => `${prefix}${line}\n`)
    .join('');
}

/**
 * Formats `message`, reusing the previous frame when it is the same message: a broadcast hands the
 * same type, id and data text to every stream of a topic set in a row, so it is formatted once.
 */
export function frameOf(message: MessageEvent): string {
  const { type, id, data } = message;
  if (
    last !== undefined &&
    last.data === data &&
    last.id === id &&
    last.type === type &&
    message.comment === undefined &&
    message.retry === undefined &&
    typeof data === 'string'
  ) {
    return last.frame;
  }
  const frame = formatFrame(message);
  last = message.comment === undefined && message.retry === undefined ? { type, id, data, frame } : undefined;
  return frame;
}

let last: { type: string | undefined; id: string | undefined; data: unknown; frame: string } | undefined;
