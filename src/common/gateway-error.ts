/**
 * Why the gateway refuses a request. Plain code throws a GatewayError with one of these codes;
 * GatewayErrorFilter alone turns it into an HTTP answer (status, JSON body, Retry-After).
 */
export const GATEWAY_ERROR_STATUS = {
  'bad-request': 400,
  'unknown-topic': 400,
  unauthenticated: 401,
  'token-expired': 401,
  'ticket-used': 401,
  forbidden: 403,
  'topic-forbidden': 403,
  'not-found': 404,
  'too-many-streams': 429,
  'rate-limited': 429,
  'shutting-down': 503,
  'not-consuming': 503,
  'key-unavailable': 503,
  'kafka-unavailable': 503,
} as const;

export type GatewayErrorCode = keyof typeof GATEWAY_ERROR_STATUS;

export class GatewayError extends Error {
  constructor(
    readonly code: GatewayErrorCode,
    message: string | readonly string[],
    /** Seconds after which trying again makes sense, sent as Retry-After. */
    readonly retryAfterSeconds?: number,
  ) {
    super(typeof message === 'string' ? message : message.join('; '));
    this.name = 'GatewayError';
    this.details = typeof message === 'string' ? message : [...message];
  }

  /** What the client is told: one message, or every problem found. */
  readonly details: string | string[];

  get status(): number {
    return GATEWAY_ERROR_STATUS[this.code];
  }
}
