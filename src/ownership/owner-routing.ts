/** Where a stream request goes in partition-owner mode, decided before any stream starts. */
export type OwnerRoute =
  /** This instance owns the user's partition and holds its whole replay window. */
  | { readonly kind: 'serve' }
  /** A 307 to the same URL with `node=<owner>`, which the load balancer sends to that instance. */
  | { readonly kind: 'redirect'; readonly node: string }
  /** A stream that only says `retry:` and ends: the client asks again shortly, with its last id. */
  | { readonly kind: 'retry'; readonly reason: RetryReason };

export type RetryReason =
  /** The group is rebalancing, or its map is being read back. */
  | 'no-map'
  /** This instance owns the partition but is still reading its window, or cannot serve now. */
  | 'not-ready'
  /** The request names the owner already, but reached another instance. */
  | 'owner-unreachable';

export interface RouteFacts {
  /** Whether this instance can serve the user now. */
  readonly servesHere: boolean;
  /** The owner the group's map names, if the map is known. */
  readonly owner: string | undefined;
  readonly self: string;
  /** The `node` the request names, if any. */
  readonly named: string | undefined;
}

/**
 * The routing rule of docs/scaling.md (3.3). It never answers 4xx/5xx: EventSource gives up for
 * good on those, while it follows a 307 and reconnects after a stream that ends. A request that
 * already names the owner but reached another instance is not redirected again: the load balancer
 * could not reach the owner, and a redirect would only loop.
 */
export function routeStream(facts: RouteFacts): OwnerRoute {
  if (facts.servesHere) return { kind: 'serve' };
  if (facts.owner === undefined) return { kind: 'retry', reason: 'no-map' };
  if (facts.owner === facts.self) return { kind: 'retry', reason: 'not-ready' };
  if (facts.named === facts.owner) return { kind: 'retry', reason: 'owner-unreachable' };
  return { kind: 'redirect', node: facts.owner };
}

/**
 * The Location of a redirect to `node`: the request's own path and query with `node` set,
 * relative to the request's path, so it stays on the origin and behind any path prefix the
 * load balancer strips (`/api/events?x` → `events?x&node=gw-2`).
 */
export function ownerLocation(requestUrl: string, node: string): string {
  const url = new URL(requestUrl, 'http://gateway.invalid');
  url.searchParams.set('node', node);
  const segment = url.pathname.slice(url.pathname.lastIndexOf('/') + 1);
  return `${segment === '' ? './' : segment}${url.search}`;
}
