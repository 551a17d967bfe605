import { connect } from 'node:net';
import { SseParser, type SseBlock } from './sse-parse.js';

export interface ProbeAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly contentType: string;
  /** The parsed body of a JSON answer. */
  readonly json?: unknown;
  /** The raw body of an answer that is neither JSON nor a stream. */
  readonly text?: string;
  /** The first complete block of a stream; the stream is closed after it. */
  readonly firstBlock?: SseBlock;
}

export interface ProbeOptions {
  headers?: Record<string, string> | Array<[string, string]>;
  method?: string;
  body?: string;
  /** The whole exchange must finish within this; a hang is a failure, not a timeout of the test. */
  deadlineMs?: number;
}

/**
 * One request, answered in full (JSON or text) or, for a stream, up to its first block, then
 * closed. Throws when the deadline passes first.
 */
export async function probe(url: string, options: ProbeOptions = {}): Promise<ProbeAnswer> {
  const controller = new AbortController();
  const deadlineMs = options.deadlineMs ?? 10_000;
  let expired = false;
  const deadline = setTimeout(() => {
    expired = true;
    controller.abort();
  }, deadlineMs);
  try {
    const response = await fetch(url, {
      method: options.method ?? 'GET',
      headers: options.headers ?? {},
      ...(options.body === undefined ? {} : { body: options.body }),
      signal: controller.signal,
    });
    const contentType = response.headers.get('content-type') ?? '';
    const base = { status: response.status, headers: response.headers, contentType };
    if (contentType.includes('text/event-stream')) {
      const parser = new SseParser();
      const decoder = new TextDecoder();
      for await (const chunk of response.body ?? []) {
        const [first] = parser.push(decoder.decode(chunk as Uint8Array, { stream: true }));
        if (first) return { ...base, firstBlock: first };
      }
      return base;
    }
    const text = await response.text();
    if (contentType.includes('application/json')) return { ...base, json: JSON.parse(text) as unknown };
    return { ...base, text };
  } catch (err) {
    if (expired) throw new Error(`No complete answer within ${deadlineMs} ms from ${url.slice(0, 200)}`);
    throw err;
  } finally {
    clearTimeout(deadline);
    controller.abort();
  }
}

/** Runs `task` over `items` with at most `concurrency` at a time; results in item order. */
export async function mapConcurrently<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/**
 * The status of one request written by hand on a socket, for request targets fetch never sends
 * (`GET http://host/path HTTP/1.1`, the absolute form a proxy receives).
 */
export function rawStatus(url: string, requestLine: string, deadlineMs = 10_000): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`No answer within ${deadlineMs} ms to ${requestLine}`));
    }, deadlineMs);
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
      const match = /^HTTP\/1\.1 (\d{3})/.exec(received);
      if (!match) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(Number(match[1]));
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.write(`${requestLine}\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`);
  });
}
