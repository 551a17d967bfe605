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
 * Runs before Nest's router and the docs' static files. A request target that is not a path
 * (`GET http://host/metrics`, which Node accepts and Express routes by the path inside it) is
 * refused, so that routes are always decided on the path Express routes by. With a management
 * port, operational routes are answered there only, and everything else on the public port only:
 * the other side gets the 404 an unknown route gets.
 */
export function separateManagementRoutes(
  management: ManagementServer,
): (request: IncomingMessage, response: ServerResponse, next: () => void) => void {
  return (request, response, next) => {
    const target = request.url ?? '/';
    if (!target.startsWith('/')) {
      answerWithError(response, new GatewayError('bad-request', 'The request target must be a path'));
      return;
    }
    if (!management.enabled || isManagementPath(target) === management.received(request)) return next();
    const path = target.split('?', 1)[0];
    answerWithError(response, new GatewayError('not-found', `Cannot ${request.method} ${path}`));
  };
}
