import { Inject, Injectable, NotFoundException, type CanActivate } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';

/** The demo's routes do not exist unless DEMO_ENABLED is set. */
@Injectable()
export class DemoEnabledGuard implements CanActivate {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  canActivate(): boolean {
    if (!this.config.demo.enabled) throw new NotFoundException();
    return true;
  }
}
