import { Inject, Injectable, type CanActivate } from '@nestjs/common';
import { GatewayError } from '../common/gateway-error.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';

/** The demo's routes do not exist unless DEMO_ENABLED is set. */
@Injectable()
export class DemoEnabledGuard implements CanActivate {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  canActivate(): boolean {
    if (!this.config.demo.enabled) throw new GatewayError('not-found', 'Not Found');
    return true;
  }
}
