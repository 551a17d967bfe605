import { isUtf8 } from 'node:buffer';
import { isCleanText } from '../common/clean-text.js';
import type { Audience, EventContent } from '../log/gateway-event.js';

export const INVALID_RECORD_REASONS = [
  'tombstone',
  'too-large',
  'not-utf8',
  'not-json',
  'not-object',
  'bad-type',
  'reserved-type',
  'missing-data',
  'unserializable-data',
  'bad-addressing',
  'bad-user-id',
] as const;

export type InvalidRecordReason = (typeof INVALID_RECORD_REASONS)[number];

export type ParseResult = { ok: true; content: EventContent } | { ok: false; reason: InvalidRecordReason };

/**
 * Event types the browser or the gateway give a meaning of their own: an `error` event would reach
 * `EventSource.onerror`, `reset` is the gateway's signal to refetch state and `checkpoint` carries
 * resume points.
 */
export const RESERVED_EVENT_TYPES: ReadonlySet<string> = new Set(['checkpoint', 'error', 'open', 'reset']);

const MAX_TYPE_LENGTH = 128;
const MAX_USER_ID_LENGTH = 256;
/** Exactly one of them addresses a record. */
const ADDRESSING_FIELDS = ['userId', 'userIds', 'broadcast'] as const;

const invalid = (reason: InvalidRecordReason): ParseResult => ({ ok: false, reason });

/**
 * Checks a record value against the event contract. Never throws: a bad record must be skipped,
 * not retried, or it would stall its partition.
 */
export function parseRecordValue(value: Buffer | null | undefined, maxBytes: number): ParseResult {
  if (value === null || value === undefined) return invalid('tombstone');
  if (value.length > maxBytes) return invalid('too-large');
  // JSON.parse throwing costs microseconds a record: an empty value is refused without it.
  if (value.length === 0) return invalid('not-json');
  // Checked before decoding: Node's decoder would replace malformed sequences without a word.
  if (!isUtf8(value)) return invalid('not-utf8');
  const text = value.toString('utf8');
  let record: unknown;
  try {
    // A byte order mark in front is taken as UTF-8 says it may be, not as part of the JSON text.
    record = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    return invalid('not-json');
  }
  return parseRecord(record);
}

/** Checks an already parsed record against the event contract (what `POST /events` receives). */
export function parseRecord(record: unknown): ParseResult {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return invalid('not-object');
  const fields = record as Record<string, unknown>;
  const type = own(fields, 'type');
  if (!isCleanText(type, MAX_TYPE_LENGTH)) return invalid('bad-type');
  if (RESERVED_EVENT_TYPES.has(type)) return invalid('reserved-type');
  if (!Object.hasOwn(fields, 'data')) return invalid('missing-data');
  const data = serialise(fields['data']);
  if (data === undefined) return invalid('unserializable-data');
  const audience = parseAudience(fields);
  if (typeof audience === 'string') return invalid(audience);
  return { ok: true, content: { type, data, audience } };
}

function parseAudience(fields: Record<string, unknown>): Audience | InvalidRecordReason {
  let field: (typeof ADDRESSING_FIELDS)[number] | undefined;
  for (const name of ADDRESSING_FIELDS) {
    if (!Object.hasOwn(fields, name)) continue;
    if (field !== undefined) return 'bad-addressing';
    field = name;
  }
  switch (field) {
    case undefined:
      return 'bad-addressing';
    case 'userId': {
      const userId = fields['userId'];
      return isCleanText(userId, MAX_USER_ID_LENGTH) ? { kind: 'user', userId } : 'bad-user-id';
    }
    case 'userIds': {
      const userIds = fields['userIds'];
      if (!Array.isArray(userIds) || userIds.length === 0) return 'bad-addressing';
      if (!userIds.every((id) => isCleanText(id, MAX_USER_ID_LENGTH))) return 'bad-user-id';
      return { kind: 'users', userIds: [...new Set(userIds)] };
    }
    case 'broadcast':
      return fields['broadcast'] === true ? { kind: 'broadcast' } : 'bad-addressing';
  }
}

function own(fields: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(fields, name) ? fields[name] : undefined;
}

function serialise(data: unknown): string | undefined {
  try {
    return JSON.stringify(data);
  } catch {
    // Nesting deep enough to overflow the stack.
    return undefined;
  }
}
