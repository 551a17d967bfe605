import { EventSource, type ErrorEvent } from 'eventsource';
import { waitFor } from './wait-for.js';

export interface ReceivedEvent {
  readonly type: string;
  readonly id: string;
  readonly data: unknown;
}

export interface StreamOptions {
  headers?: Record<string, string>;
  /** Event types to listen for; EventSource has no wildcard. */
  types?: string[];
  /** Sent as Last-Event-ID on the first request, as a client resuming by hand would. */
  lastEventId?: string;
}

export const DEFAULT_TYPES = ['notification', 'order.created', 'chat.message'];

/**
 * A real EventSource (the `eventsource` package) that records what it receives. It reconnects by
 * itself, with Last-Event-ID, when the server drops it.
 */
export class TestStream {
  readonly events: ReceivedEvent[] = [];
  readonly resets: ReceivedEvent[] = [];
  readonly errors: Array<{ code: number | undefined; message: string | undefined }> = [];
  /** The id of the last block received, checkpoints included: where a resume starts. */
  lastId: string | undefined;
  opens = 0;
  private readonly source: EventSource;

  constructor(url: string, options: StreamOptions = {}) {
    const headers = { ...options.headers };
    let first = true;
    this.source = new EventSource(url, {
      fetch: (input, init) => {
        const resume: Record<string, string> =
          first && options.lastEventId !== undefined ? { 'last-event-id': options.lastEventId } : {};
        first = false;
        return fetch(input, { ...init, headers: { ...init?.headers, ...headers, ...resume } });
      },
    });
    this.source.onopen = () => this.opens++;
    this.source.onerror = (event: ErrorEvent) =>
      this.errors.push({ code: event.code, message: event.message });
    const record =
      (into: ReceivedEvent[]) => (event: { type: string; lastEventId: string; data: string }) => {
        this.lastId = event.lastEventId;
        into.push({ type: event.type, id: event.lastEventId, data: JSON.parse(event.data) });
      };
    for (const type of options.types ?? DEFAULT_TYPES)
      this.source.addEventListener(type, record(this.events));
    this.source.addEventListener('reset', record(this.resets));
    this.source.addEventListener('checkpoint', (event) => (this.lastId = event.lastEventId));
  }

  get opened(): boolean {
    return this.opens > 0;
  }

  get readyState(): number {
    return this.source.readyState;
  }

  waitForOpen(): Promise<true> {
    return waitFor(() => this.opened, 'the stream to open');
  }

  /** Waits until an event matches, and returns it. */
  waitForEvent(matches: (event: ReceivedEvent) => boolean, what = 'an event'): Promise<ReceivedEvent> {
    return waitFor(() => this.events.find(matches), what);
  }

  close(): void {
    this.source.close();
  }
}

/** A plain fetch of the stream, for what EventSource hides: status, headers, comments, the end. */
export class RawStream {
  text = '';
  ended = false;
  endedAt: number | undefined;
  private readonly abort = new AbortController();

  private constructor(readonly response: Response) {}

  static async open(url: string, headers: Record<string, string> = {}): Promise<RawStream> {
    const controller = new AbortController();
    const response = await fetch(url, {
      headers: { accept: 'text/event-stream', ...headers },
      signal: controller.signal,
    });
    const stream = new RawStream(response);
    stream.abort.signal.addEventListener('abort', () => controller.abort());
    void stream.read();
    return stream;
  }

  private async read(): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of this.response.body ?? [])
        this.text += decoder.decode(chunk as Uint8Array, { stream: true });
    } catch {
      // Aborted by close().
    } finally {
      this.ended = true;
      this.endedAt = Date.now();
    }
  }

  waitForText(pattern: RegExp, what: string): Promise<RegExpExecArray> {
    return waitFor(() => pattern.exec(this.text) ?? undefined, what);
  }

  waitForEnd(timeoutMs?: number): Promise<true> {
    return waitFor(() => this.ended, 'the stream to end', timeoutMs);
  }

  close(): void {
    this.abort.abort();
  }
}
