/** One request the client made, and the test's control over the answer. */
export class FakeRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly credentials: RequestCredentials | undefined;
  readonly response: Promise<Response>;
  aborted = false;
  private answer!: (response: Response) => void;
  private fail!: (error: unknown) => void;
  private body: ReadableStreamDefaultController<Uint8Array> | undefined;

  constructor(url: string, init: RequestInit = {}) {
    this.url = url;
    this.headers = { ...(init.headers as Record<string, string>) };
    this.credentials = init.credentials;
    this.response = new Promise<Response>((resolve, reject) => {
      this.answer = resolve;
      this.fail = reject;
    });
    init.signal?.addEventListener('abort', () => {
      this.aborted = true;
      const error = new DOMException('The operation was aborted', 'AbortError');
      this.fail(error);
      try {
        this.body?.error(error);
      } catch {
        // Already closed.
      }
    });
  }

  /** Starts the stream, with the gateway's first checkpoint unless told otherwise. */
  open(options: { heartbeatMs?: number; first?: string; date?: number } = {}): this {
    const stream = new ReadableStream<Uint8Array>({ start: (controller) => void (this.body = controller) });
    const headers: Record<string, string> = { 'content-type': 'text/event-stream' };
    if (options.heartbeatMs !== undefined) headers['sse-heartbeat-ms'] = String(options.heartbeatMs);
    if (options.date !== undefined) headers.date = new Date(options.date).toUTCString();
    this.answer(new Response(stream, { status: 200, headers }));
    if (options.first !== '')
      this.send(options.first ?? 'event: checkpoint\nid: t=AQI\nretry: 1000\ndata: \n\n');
    return this;
  }

  /** Writes to the stream; what is written after the client aborted reaches nobody, as on a socket. */
  send(text: string): this {
    if (!this.aborted) this.body?.enqueue(new TextEncoder().encode(text));
    return this;
  }

  event(type: string, position: string, data: unknown, cursor = 'c'): this {
    return this.send(`event: ${type}\nid: ${position};${cursor}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  end(): void {
    try {
      this.body?.close();
    } catch {
      // Already errored.
    }
  }

  refuse(status: number, message: string, headers: Record<string, string> = {}): void {
    this.answer(
      new Response(JSON.stringify({ statusCode: status, message }), {
        status,
        headers: { 'content-type': 'application/json', ...headers },
      }),
    );
  }

  /** A 200 that is not an event stream. */
  page(html: string): void {
    this.answer(new Response(html, { status: 200, headers: { 'content-type': 'text/html' } }));
  }

  networkError(): void {
    this.fail(new TypeError('Failed to fetch'));
  }
}

/** Stands in for the gateway behind fetch: every request is kept for the test to answer. */
export class FakeGateway {
  readonly requests: FakeRequest[] = [];

  readonly fetch = ((input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const request = new FakeRequest(url, init);
    this.requests.push(request);
    return request.response;
  }) as typeof globalThis.fetch;

  get last(): FakeRequest {
    const request = this.requests.at(-1);
    if (!request) throw new Error('No request was made');
    return request;
  }

  /** Requests still connected (not aborted by the client). */
  get open(): FakeRequest[] {
    return this.requests.filter((request) => !request.aborted);
  }
}

/** A JWT-shaped token (unsigned: the client only reads `exp`). */
export function tokenExpiringAt(epochMs: number, sub = 'alice'): string {
  const encode = (value: object) =>
    btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(value))))
      .replace(/=+$/, '')
      .replace(/\+/g, '-')
      .replace(/\//g, '_');
  return `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub, exp: Math.floor(epochMs / 1000) })}.sig`;
}
