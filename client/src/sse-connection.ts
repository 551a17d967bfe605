import { retryAfterMs } from './backoff.js';
import type { Environment } from './environment.js';
import { sseParser, type SseBlock } from './sse-parser.js';

export type { SseBlock } from './sse-parser.js';

/** How a connection ended. */
export type ConnectionEnd =
  /** The gateway answered with an error before the stream started. */
  | {
      readonly kind: 'refused';
      readonly status: number;
      readonly retryAfterMs?: number;
      readonly message: string;
    }
  /** The gateway ended the stream (token expiry, lifetime, shutdown): resume. */
  | { readonly kind: 'ended' }
  /** The network failed, or the answer was not an event stream. */
  | { readonly kind: 'lost'; readonly error: unknown }
  /** Nothing arrived within the liveness timeout. */
  | { readonly kind: 'silent' }
  /** The client closed it. */
  | { readonly kind: 'closed' };

export interface ConnectionRequest {
  readonly url: string;
  readonly token: string | undefined;
  readonly lastEventId: string | undefined;
  readonly credentials: RequestCredentials;
  /** How long silence may last before the response or the first heartbeat interval is known. */
  readonly livenessMs: number;
}

export interface ConnectionEvents {
  /**
   * The stream started; `heartbeatMs` is the gateway's heartbeat interval when it says so, and
   * `serverTime` its clock (the `Date` header) when it can be read.
   */
  opened(heartbeatMs: number | undefined, serverTime: number | undefined): void;
  block(block: SseBlock): void;
  retry(ms: number): void;
}

/** The response header in which the gateway gives its heartbeat interval. */
export const HEARTBEAT_HEADER = 'SSE-Heartbeat-Ms';

/**
 * One HTTP stream over fetch, so that it can send a bearer token and read the status of a
 * refusal (EventSource can do neither). A stream on
 * which nothing arrives for twice the heartbeat interval is given up as silent.
 */
export class SseConnection {
  readonly ended: Promise<ConnectionEnd>;
  readonly #abort = new AbortController();
  #endedAs: ConnectionEnd | undefined;
  #livenessMs: number;
  #livenessTimer: unknown;

  constructor(
    request: ConnectionRequest,
    private readonly events: ConnectionEvents,
    private readonly env: Environment,
  ) {
    this.#livenessMs = request.livenessMs;
    this.ended = this.#run(request);
  }

  close(): void {
    this.#stop({ kind: 'closed' });
  }

  async #run(request: ConnectionRequest): Promise<ConnectionEnd> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (request.token !== undefined) headers.authorization = `Bearer ${request.token}`;
    if (request.lastEventId !== undefined) headers['last-event-id'] = request.lastEventId;
    this.#watch();
    try {
      const response = await this.env.fetch(request.url, {
        headers,
        credentials: request.credentials,
        cache: 'no-store',
        signal: this.#abort.signal,
      });
      if (!response.ok) return this.#finish(await refusal(response, this.env.now()));
      if (!response.body || !response.headers.get('content-type')?.startsWith('text/event-stream')) {
        return this.#finish({ kind: 'lost', error: new Error(`Not an event stream (${response.status})`) });
      }
      const heartbeat = Number(response.headers.get(HEARTBEAT_HEADER));
      const heartbeatMs = heartbeat > 0 ? heartbeat : undefined;
      if (heartbeatMs !== undefined) this.#livenessMs = 2 * heartbeatMs;
      this.#watch();
      // Date has whole seconds: the middle of that second is the best guess.
      const serverTime = Date.parse(response.headers.get('date') ?? '') + 500;
      this.events.opened(heartbeatMs, Number.isNaN(serverTime) ? undefined : serverTime);
      await this.#read(response.body);
      return this.#finish({ kind: 'ended' });
    } catch (error) {
      return this.#finish({ kind: 'lost', error });
    }
  }

  async #read(body: ReadableStream<Uint8Array>): Promise<void> {
    const feed = sseParser(
      (block) => this.events.block(block),
      (ms) => this.events.retry(ms),
    );
    const decoder = new TextDecoder();
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || this.#endedAs) return;
        this.#watch();
        feed(decoder.decode(value, { stream: true }));
      }
    } finally {
      reader.releaseLock();
    }
  }

  /** (Re)starts the liveness timer: any byte from the gateway proves the stream alive. */
  #watch(): void {
    this.env.clearTimeout(this.#livenessTimer);
    this.#livenessTimer = this.env.setTimeout(() => this.#stop({ kind: 'silent' }), this.#livenessMs);
  }

  #stop(end: ConnectionEnd): void {
    if (this.#endedAs) return;
    this.#endedAs = end;
    this.env.clearTimeout(this.#livenessTimer);
    this.#abort.abort();
  }

  /** The first reason recorded wins: an abort that we caused surfaces as the reason we caused it. */
  #finish(end: ConnectionEnd): ConnectionEnd {
    this.#stop(end);
    return this.#endedAs!;
  }
}

async function refusal(response: Response, now: number): Promise<ConnectionEnd> {
  let message = response.statusText || `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { message?: unknown };
    if (typeof body.message === 'string') message = body.message;
    else if (Array.isArray(body.message)) message = body.message.join('; ');
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  const retryAfter = retryAfterMs(response.headers.get('retry-after'), now);
  return {
    kind: 'refused',
    status: response.status,
    message,
    ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }),
  };
}
