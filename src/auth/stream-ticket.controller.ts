import { Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { AuthUser } from './auth-user.js';
import { CurrentUser } from './current-user.decorator.js';
import { BearerAuthGuard } from './bearer-auth.guard.js';
import { StreamTicketService, type StreamTicket } from './stream-ticket.service.js';

@ApiTags('events')
@Controller('events/tickets')
export class StreamTicketController {
  constructor(private readonly tickets: StreamTicketService) {}

  /** Trades a bearer token for a short-lived ticket: `GET /events?ticket=…`. */
  @Post()
  @HttpCode(201)
  @UseGuards(BearerAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Trade a bearer token for a short-lived stream ticket',
    description:
      'Then open `GET /events?ticket=…`: the long-lived token never goes into a URL. Any instance accepts it.',
  })
  @ApiCreatedResponse({ description: '`{ "ticket": string, "expiresIn": seconds }`' })
  @ApiUnauthorizedResponse({ description: 'No valid bearer token' })
  issue(@CurrentUser() user: AuthUser): Promise<StreamTicket> {
    return this.tickets.issue(user);
  }
}
