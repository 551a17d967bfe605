import type { StreamState } from './event-stream.js';
import type { SseBlock } from './sse-connection.js';
import type { StreamErrorCode } from './stream-error.js';

/** The version of the messages below: a tab running another version of the client ignores them. */
export const PROTOCOL = 1;

/** A StreamError as it crosses the channel (an Error does not keep its class there). */
export interface WireError {
  readonly code: StreamErrorCode;
  readonly status: number;
  readonly message: string;
}

type Base = { readonly v: typeof PROTOCOL; readonly from: string };

/** What the tabs of one group say to each other over their BroadcastChannel. */
export type TabMessage = Base &
  (
    | /** A tab is here, for this user, and wants these topics (undefined: every topic). */ {
        readonly kind: 'join';
        readonly topics: readonly string[] | undefined;
        readonly user: string | undefined;
      }
    | { readonly kind: 'leave' }
    /** The sender holds the stream now, and says it is alive at least `every` ms. */
    | { readonly kind: 'lead'; readonly user: string | undefined; readonly every: number }
    /** The leader's answer to a join of its user: follow me from `lastId`; the stream is in `state`. */
    | {
        readonly kind: 'welcome';
        readonly to: string;
        readonly user: string | undefined;
        readonly every: number;
        readonly lastId: string | undefined;
        readonly state: SharedState;
        readonly tabs: number;
      }
    /** The leader's answer to a join of another user: stream alone. */
    | { readonly kind: 'reject'; readonly to: string }
    | { readonly kind: 'alive' }
    | { readonly kind: 'block'; readonly block: SseBlock; readonly lastId: string | undefined }
    | { readonly kind: 'position'; readonly lastId: string }
    | { readonly kind: 'state'; readonly state: SharedState; readonly tabs: number }
    /** For one tab (`to`) or all; a fatal one ends the tab (its topics were refused). */
    | {
        readonly kind: 'error';
        readonly to?: string;
        readonly error: WireError;
        readonly fatal: boolean;
      }
  );

/** The states a leader shares: the terminal ones are each tab's own. */
export type SharedState = Exclude<StreamState, { status: 'closed' | 'signed-out' }>;

const CODES: readonly unknown[] = ['unauthorized', 'forbidden', 'bad-request', 'token-failed'];

/**
 * Whether a message is one of ours, whole: anything else on the channel (another version, a
 * stray script) is ignored rather than trusted.
 */
export function isTabMessage(data: unknown): data is TabMessage {
  const m = data as Record<string, unknown> | null;
  if (typeof m !== 'object' || m === null || m.v !== PROTOCOL || !text(m.from)) return false;
  switch (m.kind) {
    case 'join':
      return (m.topics === undefined || texts(m.topics)) && maybe(m.user);
    case 'leave':
    case 'alive':
      return true;
    case 'lead':
      return maybe(m.user) && positive(m.every);
    case 'welcome':
      return text(m.to) && maybe(m.user) && positive(m.every) && maybe(m.lastId) && isShared(m.state, m.tabs);
    case 'reject':
      return text(m.to);
    case 'block': {
      const block = m.block as Record<string, unknown> | null;
      return (
        typeof block === 'object' &&
        block !== null &&
        text(block.type) &&
        typeof block.data === 'string' &&
        maybe(block.id) &&
        maybe(m.lastId)
      );
    }
    case 'position':
      return text(m.lastId);
    case 'state':
      return isShared(m.state, m.tabs);
    case 'error': {
      const error = m.error as Record<string, unknown> | null;
      return (
        (m.to === undefined || text(m.to)) &&
        typeof m.fatal === 'boolean' &&
        typeof error === 'object' &&
        error !== null &&
        CODES.includes(error.code) &&
        Number.isInteger(error.status) &&
        typeof error.message === 'string'
      );
    }
    default:
      return false;
  }
}

/** A state the leader shares, and how many tabs share it. */
function isShared(value: unknown, tabs: unknown): boolean {
  const state = value as Record<string, unknown> | null;
  if (typeof state !== 'object' || state === null || !positive(tabs) || !Number.isInteger(tabs)) return false;
  if (state.status === 'reconnecting') return positive(state.inMs, 0) && typeof state.cause === 'string';
  return state.status === 'connecting' || state.status === 'live';
}

function text(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function maybe(value: unknown): boolean {
  return value === undefined || typeof value === 'string';
}

function texts(value: unknown): boolean {
  return Array.isArray(value) && value.every(text);
}

function positive(value: unknown, min = 1): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= min;
}
