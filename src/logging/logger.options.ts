import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { GatewayConfig } from '../config/gateway.config.js';

/** A client's own request id is taken when it is short and plain; otherwise one is made up. */
const REQUEST_ID = /^[\w.-]{1,128}$/;

/** The request id of a request: the client's `x-request-id` when well-formed, or a new one. */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Query parameters whose values are credentials. */
const SECRET_PARAMS = /([?&](?:ticket|token|access_token)=)[^&#]*/gi;
/** Requests logged by lines of their own (streams) or too frequent to log (probes, scrapes). */
const QUIET_PATHS = /^\/(?:events(?:\?|$)|health\/|metrics)/;

/** A URL as it may be logged: credentials in the query are replaced. */
export function loggableUrl(url: string | undefined): string | undefined {
  return url?.replace(SECRET_PARAMS, '$1[redacted]');
}

/**
 * nestjs-pino settings: JSON lines (or pretty, for development), a request id on every line, and
 * nothing of a request but its method, path and id. Headers are never logged, so the Authorization
 * and Cookie headers cannot be; the redaction paths are a second line of defence.
 */
export function loggerParams(config: GatewayConfig): Params {
  return {
    pinoHttp: {
      level: config.logging.level,
      ...(config.logging.pretty
        ? { transport: { target: 'pino-pretty', options: { singleLine: true } } }
        : {}),
      base: { service: 'kafka-sse-gateway' },
      genReqId: requestIdOf,
      serializers: {
        req: (request: { id: unknown; method: string; url: string }) => ({
          id: request.id,
          method: request.method,
          url: loggableUrl(request.url),
        }),
        res: (response: { statusCode: number }) => ({ statusCode: response.statusCode }),
      },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
          '*.token',
          '*.ticket',
          '*.data',
        ],
        censor: '[redacted]',
      },
      autoLogging: { ignore: (request: IncomingMessage) => QUIET_PATHS.test(request.url ?? '') },
      customSuccessMessage: (request: IncomingMessage, response: ServerResponse) =>
        `${request.method} ${loggableUrl(request.url)} ${response.statusCode}`,
    },
  };
}
