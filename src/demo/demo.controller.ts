import { Body, Controller, Get, Header, Inject, Post, Res, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
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
  ) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(): string {
    return DEMO_PAGE;
  }

  /** Signs in as any user: sets the HttpOnly cookie EventSource sends, and returns the token for curl. */
  @Post('demo/token')
  async token(@Body() body: { user?: unknown } | undefined, @Res({ passthrough: true }) response: Response) {
    const token = await this.tokens.issue(body?.user);
    const { cookieName } = this.config.auth;
    response.cookie(cookieName, token, {
      httpOnly: true,
      sameSite: 'strict',
      // Browsers keep a __Host- or __Secure- cookie only when it is Secure (localhost counts as a
      // secure origin); __Host- also wants Path=/ and no Domain, which no cookie here has.
      secure: /^__(?:Host|Secure)-/.test(cookieName),
      path: '/',
      maxAge: DEMO_TOKEN_TTL_SECONDS * 1000,
    });
    return { token, expiresIn: DEMO_TOKEN_TTL_SECONDS };
  }
}
