import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';

/** The `typ` and `aud` of demo tokens: nothing else carries them, and they are good for nothing else. */
export const DEMO_TOKEN_TYPE = 'demo+jwt';
export const DEMO_TOKEN_AUDIENCE = 'kafka-sse-gateway:demo';

/**
 * The demo's own HS256 key, made up when the process starts with DEMO_ENABLED: the demo signs in
 * anyone as anyone, so its tokens must open streams on this demo instance and nowhere else, never
 * with a secret that other services share.
 */
@Injectable()
export class DemoTokenKey {
  /** Undefined without DEMO_ENABLED: then no demo token verifies. */
  readonly secret: Uint8Array | undefined;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.secret = config.demo.enabled ? new Uint8Array(randomBytes(32)) : undefined;
  }
}
