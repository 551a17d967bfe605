export type StreamErrorCode = 'unauthorized' | 'forbidden' | 'bad-request' | 'token-failed';

/**
 * A refusal by the gateway, or a token `getToken` could not give. Fatal ones close the client
 * (status `closed` with `error`); the others are reported by `onError` while the stream goes on.
 */
export class StreamError extends Error {
  override readonly name = 'StreamError';

  constructor(
    readonly code: StreamErrorCode,
    /** The HTTP status of the refusal; 0 for `token-failed`. */
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The error a refusal means when retrying cannot fix it, or undefined when it is worth retrying. */
export function fatalRefusal(status: number, message: string): StreamError | undefined {
  if (status === 401) return new StreamError('unauthorized', status, message);
  if (status === 403) return new StreamError('forbidden', status, message);
  if (status === 400) return new StreamError('bad-request', status, message);
  return undefined;
}

/**
 * The topics among `candidates` that a 400 or 403 names ("Unknown topic(s): "a"", "Not allowed to
 * read topic(s): a, b"): the gateway lists them after the last colon.
 */
export function topicsNamedBy(error: StreamError, candidates: readonly string[]): string[] {
  const named = new Set(error.message.slice(error.message.lastIndexOf(':') + 1).split(/[^\w.-]+/));
  return candidates.filter((topic) => named.has(topic));
}
