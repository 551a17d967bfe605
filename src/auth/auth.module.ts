import { Module } from '@nestjs/common';
import { AccessTokenVerifier } from './access-token.verifier.js';
import { BearerAuthGuard } from './bearer-auth.guard.js';
import { DemoTokenKey } from './demo-token.key.js';
import { StreamAuthGuard } from './stream-auth.guard.js';
import { StreamTicketController } from './stream-ticket.controller.js';
import { StreamTicketService } from './stream-ticket.service.js';

@Module({
  controllers: [StreamTicketController],
  providers: [AccessTokenVerifier, StreamTicketService, StreamAuthGuard, BearerAuthGuard, DemoTokenKey],
  exports: [AccessTokenVerifier, StreamTicketService, StreamAuthGuard, BearerAuthGuard, DemoTokenKey],
})
export class AuthModule {}
