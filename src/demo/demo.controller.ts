import { Body, Controller, Get, Header, Inject, Post, Res, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { DemoClientBundle } from './demo-client.bundle.js';
import { DemoEnabledGuard } from './demo-enabled.guard.js';
import { DEMO_PAGE } from './demo.page.js';
import { DEMO_TOKEN_TTL_SECONDS, DemoTokenService } from './demo-token.service.js';

@ApiExcludeController()
@Controller()
@UseGuards(DemoEnabledGuard)
export class DemoController {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly tokens: DemoTokenService,
    private readonly client: DemoClientBundle,
  ) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(): string {
    return DEMO_PAGE;
  }

  /** The browser client the page runs (`client/`), as one ES module. */
  @Get('demo/kafka-sse-client.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  clientBundle(): string {
    return this.client.read();
  }

  /** Signs in as any user: sets the HttpOnly cookie EventSource sends, and returns the token for curl. */
  @Post('demo/token')
  async token(@Body() body: { user?: unknown } | undefined, @Res({ passthrough: true }) response: Response) {
    const token = await this.tokens.issue(body?.user);
    response.cookie(this.config.auth.cookieName, token, {
      httpOnly: true,
      sameSite: 'strict',
      path: '/',
      maxAge: DEMO_TOKEN_TTL_SECONDS * 1000,
    });
    return { token, expiresIn: DEMO_TOKEN_TTL_SECONDS };
  }
}
