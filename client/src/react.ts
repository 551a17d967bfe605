import { useEffect, useRef, useState } from 'react';
import {
  connect,
  type ClientOptions,
  type EventClient,
  type GatewayEvent,
  type ResetNotice,
  type StatusEvent,
} from './event-client.js';
import type { StreamError } from './stream-error.js';

export interface GatewayEventsOptions extends ClientOptions {
  /** Every event, whatever its type. */
  readonly onEvent?: (event: GatewayEvent) => void;
  /** The gateway cannot resume exactly: refetch your state. */
  readonly onReset?: (reset: ResetNotice) => void;
  readonly onError?: (error: StreamError) => void;
  /** `false` keeps it disconnected, e.g. until the user has signed in. Default true. */
  readonly enabled?: boolean;
}

export interface GatewayEvents<Events extends Record<string, unknown>> {
  /** `connecting` until the stream is live, and during server-side rendering. */
  readonly status: StatusEvent;
  /** The client while connected (for `on(type, …)` and `lastEventId`); undefined on the server. */
  readonly client: EventClient<Events> | undefined;
}

const CONNECTING: StatusEvent = { status: 'connecting', tabs: 1, leader: false };

/**
 * The gateway's stream in a React component. It connects after the component mounts (never during
 * server-side rendering, where it only reports `connecting`), closes when it unmounts, and connects
 * anew when `url`, `topics`, `shareKey`, `shareAcrossTabs`, `credentials` or `enabled` change.
 * Handlers and `getToken` may be new functions on every render: the latest ones are called.
 */
export function useGatewayEvents<Events extends Record<string, unknown> = Record<string, unknown>>(
  options: GatewayEventsOptions = {},
): GatewayEvents<Events> {
  const latest = useRef(options);
  useEffect(() => {
    latest.current = options;
  });
  const [status, setStatus] = useState(CONNECTING);
  const [client, setClient] = useState<EventClient<Events>>();
  const { url, topics, shareKey, shareAcrossTabs, credentials, enabled = true } = options;
  const withToken = options.getToken !== undefined;
  const key = JSON.stringify([
    url,
    topics && [...topics].sort(),
    shareKey,
    shareAcrossTabs,
    credentials,
    withToken,
  ]);

  useEffect(() => {
    if (!enabled) return;
    const {
      onEvent: _onEvent,
      onReset: _onReset,
      onError: _onError,
      enabled: _on,
      ...clientOptions
    } = latest.current;
    const current = connect<Events>({
      ...clientOptions,
      ...(withToken ? { getToken: (request) => latest.current.getToken!(request) } : {}),
    });
    const unsubscribe = [
      current.onStatus(setStatus),
      current.onAny((event) => latest.current.onEvent?.(event)),
      current.onReset((reset) => latest.current.onReset?.(reset)),
      current.onError((error) => latest.current.onError?.(error)),
    ];
    setClient(current);
    return () => {
      unsubscribe.forEach((off) => off());
      current.close();
      setClient(undefined);
      setStatus(CONNECTING);
    };
    // The options that shape the stream are in `key`; the others are read through `latest`.
  }, [key, enabled, withToken]);

  return { status, client };
}
