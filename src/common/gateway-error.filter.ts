import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { GatewayError } from './gateway-error.js';

/**
 * The one place a GatewayError becomes an HTTP answer, in the shape Nest gives its own errors:
 * `{"statusCode":429,"error":"Too Many Requests","message":"…"}`, with Retry-After when known.
 */
@Catch(GatewayError)
export class GatewayErrorFilter implements ExceptionFilter<GatewayError> {
  catch(error: GatewayError, host: ArgumentsHost): void {
    answerWithError(host.switchToHttp().getResponse<ServerResponse>(), error);
  }
}

/**
 * Writes `error` as the answer to a request, for the filter and for what answers before Nest's
 * router (the management port's split). A response already under way can only be cut.
 */
export function answerWithError(response: ServerResponse, error: GatewayError): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
  response.writeHead(error.status, headers);
  response.end(
    JSON.stringify({ statusCode: error.status, error: STATUS_CODES[error.status], message: error.details }),
  );
}
