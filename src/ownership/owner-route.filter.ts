import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { retryFrame } from '../sse/sse-frame.js';
import { ownerLocation, type OwnerRoute } from './owner-routing.js';

/** A stream request this instance does not serve (partition-owner mode); answered by OwnerRouteFilter. */
export class OwnerRouteException extends Error {
  constructor(
    readonly route: Exclude<OwnerRoute, { kind: 'serve' }>,
    /** The reconnection delay a soft retry tells the client. */
    readonly retryMs: number,
  ) {
    super(route.kind === 'redirect' ? `the owner is ${route.node}` : `ask again later: ${route.reason}`);
    this.name = 'OwnerRouteException';
  }
}

/**
 * Answers a stream request that belongs elsewhere, before any stream starts: a 307 to the owner,
 * or a soft retry (`200 text/event-stream` with only `retry:`, then the end). The soft retry sets
 * no id, so the client keeps its last one and resumes with it wherever it lands next.
 */
@Catch(OwnerRouteException)
export class OwnerRouteFilter implements ExceptionFilter<OwnerRouteException> {
  catch(exception: OwnerRouteException, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<IncomingMessage & { originalUrl?: string }>();
    const response = http.getResponse<ServerResponse>();
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const { route } = exception;
    if (route.kind === 'redirect') {
      response.writeHead(307, {
        location: ownerLocation(request.originalUrl ?? request.url ?? '', route.node),
        'cache-control': 'no-store',
        'content-length': '0',
      });
      response.end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    response.end(retryFrame(exception.retryMs, route.reason));
  }
}
