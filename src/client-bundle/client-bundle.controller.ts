import { Controller, Get, Inject, Req, Res, UseGuards, type CanActivate } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { GatewayError } from '../common/gateway-error.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { ClientBundleService, type ServedFile } from './client-bundle.service.js';

/** The routes do not exist with CLIENT_BUNDLE=false. */
class ClientBundleEnabledGuard implements CanActivate {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  canActivate(): boolean {
    if (!this.config.clientBundle.enabled) throw new GatewayError('not-found', 'Not Found');
    return true;
  }
}

/**
 * The browser client for pages without a bundler: `import { connect } from '/client.js'`.
 * `no-cache` with a strong ETag: a browser keeps its copy but asks every time whether it is still
 * current (a 304 without a body when it is), so a deploy reaches every page at once; the URL is
 * unversioned, and tabs of one user share a stream only when they run the same client.
 */
@ApiExcludeController()
@Controller()
@UseGuards(ClientBundleEnabledGuard)
export class ClientBundleController {
  constructor(private readonly bundle: ClientBundleService) {}

  @Get('client.js')
  script(@Req() request: Request, @Res() response: Response): void {
    send(this.bundle.script(), request, response);
  }

  @Get('client.js.map')
  map(@Req() request: Request, @Res() response: Response): void {
    send(this.bundle.map(), request, response);
  }
}

function send(file: ServedFile, request: Request, response: Response): void {
  response.set({
    'Content-Type': file.contentType,
    ETag: file.etag,
    'Cache-Control': 'public, no-cache',
    // Public code without credentials: a page of any origin may import it (module scripts use CORS).
    'Access-Control-Allow-Origin': '*',
    'X-Content-Type-Options': 'nosniff',
  });
  const known = request.headers['if-none-match']?.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
  if (known?.includes(file.etag)) {
    response.status(304).end();
    return;
  }
  response.send(file.body);
}
