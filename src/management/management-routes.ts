import type { IncomingMessage, ServerResponse } from 'node:http';
import { unescape } from 'node:querystring';
import { GatewayError } from '../common/gateway-error.js';
import { answerWithError } from '../common/gateway-error.filter.js';
import type { ManagementServer } from './management-server.js';

/** The operational routes: metrics, probes, and the API docs with their assets. */
const MANAGEMENT_PATH = /^\/(?:metrics|health|docs)(?:\/|$)/i;

/**
 * Whether a request target names an operational route, however it is written: Express matches
 * routes without regard to case or a trailing slash, and static files after decoding.
 */
export function isManagementPath(url: string): boolean {
  const path = url.split('?', 1)[0] ?? '';
  return MANAGEMENT_PATH.test(unescape(path).replace(/\/{2,}/g, '/'));
}

/**
 * With a management port, operational routes are answered there only, and everything else on the
 * public port only: the other side gets the 404 an unknown route gets. It runs before Nest's
 * router and the docs' static files, so nothing is served from the wrong port.
 */
export function separateManagementRoutes(
  management: ManagementServer,
): (request: IncomingMessage, response: ServerResponse, next: () => void) => void {
  return (request, response, next) => {
    if (isManagementPath(request.url ?? '/') === management.received(request)) return next();
    const path = (request.url ?? '/').split('?', 1)[0];
    answerWithError(response, new GatewayError('not-found', `Cannot ${request.method} ${path}`));
  };
}
