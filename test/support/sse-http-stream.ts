import { get, type ClientRequest, type IncomingMessage } from 'node:http';
import { SseParser, type SseBlock } from './sse-parse.js';

/**
 * A stream read with a bare `http.get` (no EventSource, no connection pool) and parsed block by
 * block: light enough to hold a thousand of them, and it shows every field as it came.
 */
export class SseHttpStream {
  readonly parser = new SseParser();
  ended = false;
  private constructor(
    private readonly request: ClientRequest,
    readonly response: IncomingMessage,
  ) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => this.parser.push(chunk));
    response.on('close', () => (this.ended = true));
    response.on('error', () => (this.ended = true));
  }

  /** Resolves once the answer's head has arrived, whatever its status. */
  static open(url: string, headers: Record<string, string> = {}): Promise<SseHttpStream> {
    return new Promise((resolve, reject) => {
      const request = get(
        url,
        { headers: { accept: 'text/event-stream', ...headers }, agent: false },
        (response) => resolve(new SseHttpStream(request, response)),
      );
      request.on('error', reject);
    });
  }

  get status(): number | undefined {
    return this.response.statusCode;
  }

  get blocks(): readonly SseBlock[] {
    return this.parser.blocks;
  }

  close(): void {
    this.request.destroy();
  }
}
