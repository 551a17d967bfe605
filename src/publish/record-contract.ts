import { parseRecord, type InvalidRecordReason } from '../kafka/record-parser.js';

/** The consumer's reasons for skipping a record, as its author should read them. */
export const CONTRACT_PROBLEMS: Partial<Record<InvalidRecordReason, string>> = {
  'not-object': 'the body must be a JSON object',
  'bad-type': 'type must be a string of 1-128 characters without control characters',
  'reserved-type': 'type is reserved: checkpoint, error, open and reset are the gateway’s own',
  'missing-data': 'data is required (it may be null)',
  'unserializable-data': 'data is nested too deeply',
  'bad-addressing': 'give exactly one of userId, userIds (non-empty) or broadcast: true',
  'bad-user-id': 'user ids must be strings of 1-256 characters without control characters',
};

/**
 * What keeps `event` from being delivered, as the consumer checks it, or undefined when nothing
 * does. `npm run publish` asks before it writes, as `POST /events` does.
 */
export function contractProblem(event: unknown): string | undefined {
  const parsed = parseRecord(event);
  return parsed.ok ? undefined : (CONTRACT_PROBLEMS[parsed.reason] ?? parsed.reason);
}
