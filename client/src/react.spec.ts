/**
 * @jest-environment jsdom
 */
/// <reference types="node" />
import { ReadableStream } from 'node:stream/web';
import { TextDecoder, TextEncoder } from 'node:util';
import { act, createElement, type ReactElement } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import type { GatewayEvent, StatusEvent } from './event-client.js';
import { useGatewayEvents, type GatewayEventsOptions } from './react.js';

// jsdom has no streams or text codecs: the client reads the response body with Node's.
Object.assign(globalThis, { TextDecoder, TextEncoder, IS_REACT_ACT_ENVIRONMENT: true });

/** One request of the client and its event stream, which the test writes. */
interface Stream {
  readonly url: string;
  readonly signal: AbortSignal;
  send(text: string): void;
}

describe(useGatewayEvents.name, () => {
  let streams: Stream[];
  let root: Root;
  let seen: { status?: StatusEvent; events: number[] };

  /** A fetch that answers every request with an open event stream. */
  const fetch = ((url: string, init: RequestInit) => {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
    init.signal!.addEventListener('abort', () => controller.error(new Error('aborted')));
    const stream: Stream = {
      url,
      signal: init.signal!,
      send: (text) => controller.enqueue(new TextEncoder().encode(text)),
    };
    streams.push(stream);
    return Promise.resolve({
      ok: true,
      status: 200,
      headers: { get: (name: string) => (name === 'content-type' ? 'text/event-stream' : null) },
      body,
    });
  }) as unknown as typeof globalThis.fetch;

  const Events = (props: GatewayEventsOptions): ReactElement => {
    const { status } = useGatewayEvents(props);
    seen.status = status;
    return createElement('p', null, status.status);
  };

  const options = (overrides: Partial<GatewayEventsOptions> = {}): GatewayEventsOptions => ({
    url: 'https://gw.example/events',
    locks: null,
    environment: {
      fetch,
      setTimeout: (run, ms) => setTimeout(run, ms),
      clearTimeout: (handle) => clearTimeout(handle as number),
      now: () => Date.now(),
      random: () => 0.5,
    },
    onEvent: (event: GatewayEvent) => seen.events.push((event.data as { n: number }).n),
    ...overrides,
  });

  const render = (props: GatewayEventsOptions) =>
    act(async () => {
      root.render(createElement(Events, props));
      await Promise.resolve();
    });
  const settle = () => act(() => new Promise((resolve) => setTimeout(resolve, 10)));
  const event = (n: number) => `event: notification\nid: notifications/0/${n};c\ndata: {"n":${n}}\n\n`;

  beforeEach(() => {
    streams = [];
    seen = { events: [] };
    root = createRoot(document.createElement('div'));
  });

  afterEach(() => act(() => root.unmount()));

  it('should connect once mounted, report the status, and hand events to the latest handler', async () => {
    await render(options());
    await settle();
    streams[0]!.send(event(1));
    await settle();
    const later: number[] = [];
    await render(options({ onEvent: (e) => later.push((e.data as { n: number }).n) }));
    streams[0]!.send(event(2));
    await settle();

    expect(streams).toHaveLength(1);
    expect(seen.status).toMatchObject({ status: 'live' });
    expect(seen.events).toEqual([1]);
    expect(later).toEqual([2]);
  });

  it('should close the stream when the component unmounts', async () => {
    await render(options());
    await settle();
    act(() => root.unmount());

    expect(streams[0]!.signal.aborted).toBe(true);
    root = createRoot(document.createElement('div'));
  });

  it('should connect anew when the topics change, and not when only a handler does', async () => {
    await render(options({ topics: ['orders'] }));
    await settle();
    await render(options({ topics: ['orders'], onEvent: () => undefined }));
    await settle();
    await render(options({ topics: ['orders', 'chat'] }));
    await settle();

    expect(streams.map((stream) => [stream.url, stream.signal.aborted])).toEqual([
      ['https://gw.example/events?topics=orders', true],
      ['https://gw.example/events?topics=chat,orders', false],
    ]);
  });

  it('should stay disconnected while enabled is false', async () => {
    await render(options({ enabled: false }));
    await settle();

    expect(streams).toEqual([]);
    expect(seen.status).toMatchObject({ status: 'connecting' });
  });
});
