import { Controller, Query, Sse, UseGuards, type MessageEvent } from '@nestjs/common';
import type { Observable } from 'rxjs';
import type { AuthUser as User } from '../auth/auth-user.js';
import { AuthUser } from '../auth/auth-user.decorator.js';
import { StreamAuthGuard } from '../auth/stream-auth.guard.js';
import { EventStreamService } from './event-stream.service.js';

@Controller('events')
export class EventsController {
  constructor(private readonly streams: EventStreamService) {}

  /** The signed-in user's live events on the topics asked for (`?topics=a,b`), as Server-Sent Events. */
  @Sse()
  @UseGuards(StreamAuthGuard)
  stream(@AuthUser() user: User, @Query('topics') topics: unknown): Observable<MessageEvent> {
    return this.streams.open(user, topics);
  }
}
