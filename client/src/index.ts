export {
  connect,
  EventClient,
  type ClientOptions,
  type GatewayEvent,
  type ResetNotice,
  type Status,
  type StatusEvent,
} from './event-client.js';
export { StreamError, type StreamErrorCode } from './stream-error.js';
export type { GetToken, TokenRequest, TokenResult } from './token.js';
export type { Environment } from './environment.js';
