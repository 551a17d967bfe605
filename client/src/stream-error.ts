export type StreamErrorCode = 'unauthorized' | 'forbidden' | 'bad-request';

/** Why the client gave up for good: the gateway refused the stream in a way retrying cannot fix. */
export class StreamError extends Error {
  override readonly name = 'StreamError';

  constructor(
    readonly code: StreamErrorCode,
    /** The HTTP status of the refusal. */
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The fatal error a refusal means, or undefined when it is worth retrying. */
export function fatalRefusal(status: number, message: string): StreamError | undefined {
  if (status === 401) return new StreamError('unauthorized', status, message);
  if (status === 403) return new StreamError('forbidden', status, message);
  if (status === 400) return new StreamError('bad-request', status, message);
  return undefined;
}
