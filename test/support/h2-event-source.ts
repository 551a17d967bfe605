import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { createGunzip, constants as zlib } from 'node:zlib';
import { SseParser, type SseBlock } from './sse-parse.js';
import { waitFor } from './wait-for.js';

export interface H2Event {
  readonly type: string;
  readonly id: string;
  readonly data: unknown;
}

/** One response the client got: its status, who answered it (nginx's X-Served-By) and its path. */
export interface Hop {
  readonly path: string;
  readonly status: number;
  readonly servedBy: string | undefined;
  /** For a 200: whether it carried a resume point (a stream), or ended without one (a soft retry). */
  stream?: boolean;
}

const field = (block: SseBlock, name: string): string | undefined =>
  block.find((candidate) => candidate.name === name)?.value;

/**
 * An EventSource over HTTP/2, as a browser behind an HTTP/2 proxy has one: it follows redirects,
 * reconnects after `retry:` with the last id it saw (checkpoints included) when the server ends
 * the stream, and, like EventSource, gives up for good on any answer but a 200 event stream.
 */
export class H2EventSource {
  readonly events: H2Event[] = [];
  readonly resets: H2Event[] = [];
  readonly hops: Hop[] = [];
  /** Set when it gave up: the status or error that closed it. */
  failure: string | undefined;
  lastId: string | undefined;
  private retryMs = 1000;
  private closed = false;
  private readonly session: ClientHttp2Session;

  constructor(
    origin: string,
    ca: string,
    private path: string,
    private readonly headers: Record<string, string>,
    options: { lastEventId?: string; reconnect?: boolean } = {},
  ) {
    this.session = connect(origin, { ca });
    this.session.on('error', () => undefined);
    this.lastId = options.lastEventId;
    this.reconnect = options.reconnect ?? true;
    this.open(0);
  }

  private readonly reconnect: boolean;

  get alpn(): string | undefined {
    return this.session.alpnProtocol;
  }

  /** Streams that opened (a resume point arrived). */
  get opens(): number {
    return this.hops.filter((hop) => hop.stream).length;
  }

  private open(redirects: number): void {
    if (this.closed) return;
    const request = this.session.request({
      [constants.HTTP2_HEADER_PATH]: this.path,
      accept: 'text/event-stream',
      // As a browser asks: a proxy that compresses must still deliver each event as it comes.
      'accept-encoding': 'gzip',
      ...this.headers,
      ...(this.lastId === undefined ? {} : { 'last-event-id': this.lastId }),
    });
    request.on('error', () => undefined);
    request.once('response', (headers) => {
      const status = Number(headers[constants.HTTP2_HEADER_STATUS]);
      const hop: Hop = { path: this.path, status, servedBy: headers['x-served-by'] as string | undefined };
      this.hops.push(hop);
      const location = headers.location;
      if (status >= 300 && status < 400 && typeof location === 'string' && redirects < 20) {
        request.close();
        // Relative to the request's path, as the gateway writes it.
        const target = new URL(location, `https://host${this.path}`);
        this.path = `${target.pathname}${target.search}`;
        this.open(redirects + 1);
        return;
      }
      if (status !== 200 || !String(headers['content-type']).startsWith('text/event-stream')) {
        this.failure = `${status} ${String(headers['content-type'])}`;
        request.close();
        return;
      }
      hop.stream = false;
      const parser = new SseParser();
      const body =
        headers['content-encoding'] === 'gzip'
          ? request.pipe(createGunzip({ finishFlush: zlib.Z_SYNC_FLUSH }))
          : request;
      body.setEncoding('utf8');
      body.on('data', (chunk: string) => {
        for (const block of parser.push(chunk)) this.received(block, hop);
      });
      body.on('error', () => undefined);
      body.once('end', () => {
        if (this.reconnect && !this.closed) setTimeout(() => this.open(0), this.retryMs);
      });
    });
  }

  private received(block: SseBlock, hop: Hop): void {
    const retry = field(block, 'retry');
    if (retry !== undefined) this.retryMs = Number(retry);
    const id = field(block, 'id');
    if (id !== undefined) {
      this.lastId = id;
      hop.stream = true;
    }
    const type = field(block, 'event');
    const data = field(block, 'data');
    if (type === undefined || type === 'checkpoint' || data === undefined) return;
    const event = { type, id: id ?? '', data: JSON.parse(data) as unknown };
    (type === 'reset' ? this.resets : this.events).push(event);
  }

  waitForOpen(what = 'the stream to open'): Promise<true> {
    return waitFor(() => {
      if (this.failure) throw new Error(`the stream failed: ${this.failure}`);
      return this.opens > 0;
    }, what);
  }

  waitForEvent(
    matches: (event: H2Event) => boolean,
    what = 'an event',
    timeoutMs?: number,
  ): Promise<H2Event> {
    return waitFor(() => this.events.find(matches), what, timeoutMs);
  }

  close(): void {
    this.closed = true;
    this.session.close();
    this.session.destroy();
  }
}
