import { GatewayError } from '../common/gateway-error.js';

const MAX_TOPICS_PARAM_LENGTH = 4096;

/**
 * The topics a stream reads: those requested or, without any, every configured topic the user may
 * read. Unknown topics are a 400, topics outside the token's claim a 403.
 * @returns sorted topic names without duplicates
 */
export function selectTopics(
  configured: readonly string[],
  allowed: readonly string[] | undefined,
  requested: readonly string[] | undefined,
): string[] {
  const readable = allowed === undefined ? configured : configured.filter((topic) => allowed.includes(topic));
  if (requested === undefined) {
    if (readable.length === 0)
      throw new GatewayError('topic-forbidden', 'This token may read none of the topics');
    return [...readable].sort();
  }
  const unknown = requested.filter((topic) => !configured.includes(topic));
  if (unknown.length > 0)
    throw new GatewayError('unknown-topic', `Unknown topic(s): ${unknown.map(quote).join(', ')}`);
  const forbidden = requested.filter((topic) => !readable.includes(topic));
  if (forbidden.length > 0)
    throw new GatewayError('topic-forbidden', `Not allowed to read topic(s): ${forbidden.join(', ')}`);
  return [...requested].sort();
}

/** The topics a `topics` query (comma-separated, maybe repeated) asks for; a 400 when it is not text. */
export function topicsQuery(query: unknown): string[] | undefined {
  if (query === undefined) return undefined;
  const parts = Array.isArray(query) ? query : [query];
  if (!parts.every((part): part is string => typeof part === 'string')) {
    throw new GatewayError('bad-request', 'topics must be a comma-separated list of topic names');
  }
  const text = parts.join(',');
  if (text.length > MAX_TOPICS_PARAM_LENGTH) throw new GatewayError('bad-request', 'topics is too long');
  const topics = [...new Set(text.split(',').map((topic) => topic.trim()))].filter((topic) => topic !== '');
  return topics.length === 0 ? undefined : topics;
}

/** Echoes a client's input in an error message without letting it shape the message. */
function quote(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}
