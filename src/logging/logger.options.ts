import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { unescape } from 'node:querystring';
import type { Params } from 'nestjs-pino';
import type { GatewayConfig } from '../config/gateway.config.js';

/** A client's own request id is taken when it is short and plain; otherwise one is made up. */
const REQUEST_ID = /^[\w.-]{1,128}$/;

/** The request id of a request: the client's `x-request-id` when well-formed, or a new one. */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Query parameters whose values are credentials, by the name the query parser reads. */
const SECRET_PARAMS = new Set(['ticket', 'token', 'access_token']);
/** Requests logged by lines of their own (streams) or too frequent to log (probes, scrapes). */
const QUIET_PATHS = /^\/(?:events(?:\?|$)|health\/|metrics)/;

/**
 * A URL as it may be logged: the value of every query parameter that is a credential is replaced.
 * The name is judged as the query parser decodes it (`%74icket` is `ticket`, `+` is a space),
 * ignoring case and a `[…]` suffix, so that no spelling the gateway reads gets through.
 */
export function loggableUrl(url: string | undefined): string | undefined {
  const start = url?.indexOf('?') ?? -1;
  if (url === undefined || start < 0) return url;
  const query = url
    .slice(start + 1)
    .split('&')
    .map((pair) => {
      const end = pair.indexOf('=');
      const name = end < 0 ? pair : pair.slice(0, end);
      return SECRET_PARAMS.has(parameterName(name)) ? `${name}=[redacted]` : pair;
    });
  return `${url.slice(0, start)}?${query.join('&')}`;
}

/** A parameter's name as Express's query parser (node:querystring) decodes it, in lower case. */
function parameterName(raw: string): string {
  return unescape(raw.replace(/\+/g, ' ')).trim().toLowerCase().replace(/\[.*$/, '');
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
