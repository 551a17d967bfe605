import { Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import type { AuthUser as User } from './auth-user.js';
import { AuthUser } from './auth-user.decorator.js';
import { BearerAuthGuard } from './bearer-auth.guard.js';
import { StreamTicketService, type StreamTicket } from './stream-ticket.service.js';

@Controller('events/tickets')
export class StreamTicketController {
  constructor(private readonly tickets: StreamTicketService) {}

  /** Trades a bearer token for a short-lived ticket: `GET /events?ticket=…`. */
  @Post()
  @HttpCode(201)
  @UseGuards(BearerAuthGuard)
  issue(@AuthUser() user: User): Promise<StreamTicket> {
    return this.tickets.issue(user);
  }
}
