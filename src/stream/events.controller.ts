import {
  Controller,
  Headers,
  Query,
  Req,
  Sse,
  UseFilters,
  UseGuards,
  type MessageEvent,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCookieAuth,
  ApiForbiddenResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
import type { AuthUser } from '../auth/auth-user.js';
import { CurrentUser } from '../auth/current-user.decorator.js';
import { StreamAuthGuard } from '../auth/stream-auth.guard.js';
import { requestIdOf } from '../logging/logger.options.js';
import { OwnerRouteFilter } from '../ownership/owner-route.filter.js';
import { EventStreamService, HEARTBEAT_HEADER } from './event-stream.service.js';
import { streamRequest } from './stream-request.js';

@ApiTags('events')
@Controller('events')
export class EventsController {
  constructor(private readonly streams: EventStreamService) {}

  /**
   * The signed-in user's events on the topics asked for (`?topics=a,b`), as Server-Sent Events,
   * resumed after `Last-Event-ID` (sent by EventSource on reconnect) or `?lastEventId=`.
   */
  @Sse()
  @ApiOperation({
    summary: 'The signed-in user’s event stream (text/event-stream)',
    description: 'See the description above for the event, id, checkpoint and reset contract.',
  })
  @ApiBearerAuth()
  @ApiCookieAuth()
  @ApiQuery({
    name: 'topics',
    required: false,
    description: 'Comma-separated subset of the configured topics',
  })
  @ApiQuery({ name: 'ticket', required: false, description: 'A stream ticket from POST /events/tickets' })
  @ApiQuery({ name: 'lastEventId', required: false, description: 'Resume after this id (first request)' })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'Resume after this id (EventSource sends it)',
  })
  @ApiOkResponse({
    description: 'The stream',
    content: { 'text/event-stream': {} },
    headers: {
      [HEARTBEAT_HEADER]: {
        description: 'The heartbeat interval in ms: silence for about twice as long means a dead connection',
        schema: { type: 'integer' },
      },
    },
  })
  @ApiBadRequestResponse({ description: 'Unknown topic' })
  @ApiUnauthorizedResponse({ description: 'Missing, invalid or expired credentials' })
  @ApiForbiddenResponse({ description: 'A topic outside the token’s topics claim' })
  @ApiTooManyRequestsResponse({ description: 'Too many open streams, or opened too fast (Retry-After)' })
  @ApiServiceUnavailableResponse({ description: 'The instance is shutting down or cannot follow Kafka' })
  @UseGuards(StreamAuthGuard)
  // Partition-owner mode: a 307 to the owner, or a soft retry, before any stream starts.
  @UseFilters(OwnerRouteFilter)
  stream(
    @CurrentUser() user: AuthUser,
    @Req() request: Request,
    @Query() query: Record<string, unknown>,
    @Headers('last-event-id') lastEventId: string | undefined,
  ): Observable<MessageEvent> | Promise<Observable<MessageEvent>> {
    const asked = streamRequest(query, lastEventId);
    // The stream writes its frames to the response itself, past Nest (see nest-sse.bridge.ts).
    const open = () => this.streams.open(user, asked, request.res!, requestIdOf(request));
    // Nest waits for a promised stream before it writes anything: a refusal is still a 4xx.
    const lookingUp = this.streams.lookUp(asked);
    return lookingUp ? lookingUp.then(open) : open();
  }
}
