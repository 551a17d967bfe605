import type { MessageEvent } from '@nestjs/common';
import type { GatewayEvent } from '../log/gateway-event.js';
import { formatEventId } from '../log/log-position.js';
import type { HistoryGap } from '../log/partition-log.js';

/*
 * The gateway's SSE wire format, every frame of it: events, checkpoints (resume points without
 * an event), resets, and the soft retry of partition-owner mode.
 */

export type ResetReason = 'malformed-id' | 'unknown-position' | 'log-changed' | HistoryGap;

export const RESET_MESSAGES: Record<ResetReason, string> = {
  'malformed-id': 'The last event id is not one this gateway issued',
  'unknown-position':
    'The last event id names topics, partitions or offsets this gateway does not know; refetch your state',
  expired:
    'Events after the last event id are no longer in Kafka (retention, compaction or deleted records); refetch your state',
  'beyond-horizon':
    'The last event id is further back than this gateway replays (RESUME_HORIZON_RECORDS); refetch your state',
  'log-changed':
    'The Kafka log changed under the gateway (a topic recreated, records removed, a failover); refetch your state',
};

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

/** The first message of a stream, which Nest writes with the headers: a checkpoint with a retry hint. */
export function openingMessage(id: string, retryMs: number): MessageEvent {
  return { type: 'checkpoint', id, data: '', retry: retryMs };
}

/** The client must refetch its state: continuity was lost for `reason`; `id` is where it stands now. */
export function resetFrame(reason: ResetReason, id: string): string {
  const data = JSON.stringify({ reason, message: RESET_MESSAGES[reason] });
  return `event: reset\nid: ${id}\ndata: ${data}\n\n`;
}

/**
 * A stream that only says when to reconnect, then ends (partition-owner mode's soft retry). It
 * sets no id, so the client keeps its last one and resumes with it wherever it lands next.
 */
export function retryFrame(retryMs: number, why: string): string {
  return `retry: ${retryMs}\n${prefixLines(why, ': ')}\n`;
}

function prefixLines(text: string, prefix: string): string {
  if (!LINE_BREAK.test(text)) return `${prefix}${text}\n`;
  return text
    .split(LINE_BREAK)
    .map((line) => `${prefix}${line}\n`)
    .join('');
}

/**
 * The last frame formatted: the bus hands the same event to every stream of a topic set in a row
 * (a broadcast), with the same id, or the same compact cursor (see StreamIds), so each distinct
 * frame is built once.
 */
export class FrameCache {
  private event: GatewayEvent | undefined;
  private id: string | undefined;
  private cursor: string | undefined;
  private frame = '';

  frameOf(event: GatewayEvent, id: string): string {
    if (event !== this.event || id !== this.id) {
      this.event = event;
      this.id = id;
      this.cursor = undefined;
      this.frame = eventFrame(event, id);
    }
    return this.frame;
  }

  /** The frame of `event` with the id made of its position and a compact `cursor`. */
  compactFrameOf(event: GatewayEvent, cursor: string): string {
    if (event !== this.event || cursor !== this.cursor) {
      this.event = event;
      this.cursor = cursor;
      this.id = undefined;
      this.frame = eventFrame(event, formatEventId(event, cursor));
    }
    return this.frame;
  }
}
