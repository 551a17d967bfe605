import type { MessageEvent } from '@nestjs/common';
import type { GatewayEvent } from '../event-bus/gateway-event.js';

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

/**
 * The frame of an event. Its type was checked to hold no line break, its data is JSON text
 * (which escapes them) and its id is made of topic names and base64url, so no field needs
 * escaping: this runs once per delivery.
 */
export function eventFrame(event: GatewayEvent, id: string): string {
  return `event: ${event.type}\nid: ${id}\ndata: ${event.data}\n\n`;
}

/** A resume point without an event (see the README's `checkpoint`). */
export function checkpointFrame(id: string, options: { comment?: string; retryMs?: number } = {}): string {
  const retry = options.retryMs === undefined ? '' : `retry: ${options.retryMs}\n`;
  const comment = options.comment === undefined ? '' : prefixLines(options.comment, ': ');
  return `event: checkpoint\nid: ${id}\n${retry}${comment}data: \n\n`;
}

function prefixLines(text: string, prefix: string): string {
  if (!LINE_BREAK.test(text)) return `${prefix}${text}\n`;
  return text
    .split(LINE_BREAK)
    .map((line) => `${prefix}${line}\n`)
    .join('');
}

/**
 * The last frame formatted: the hub hands the same event and id to every stream of a topic set in
 * a row (a broadcast), so each distinct frame is built once.
 */
export class FrameCache {
  private event: GatewayEvent | undefined;
  private id: string | undefined;
  private frame = '';

  frameOf(event: GatewayEvent, id: string): string {
    if (event !== this.event || id !== this.id) {
      this.event = event;
      this.id = id;
      this.frame = eventFrame(event, id);
    }
    return this.frame;
  }
}
