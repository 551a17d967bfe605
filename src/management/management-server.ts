import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';

/**
 * The management port (MANAGEMENT_PORT): a second listener for the gateway's own request handler,
 * so metrics, probes and docs come from the same providers as the public port, yet are answered
 * only here (see `separateManagementRoutes`). It closes with the application, after the public
 * port: a draining instance keeps answering its probes until the end.
 */
@Injectable()
export class ManagementServer implements OnApplicationShutdown {
  private server: Server | undefined;
  private readonly requests = new WeakSet<IncomingMessage>();

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  /** True when MANAGEMENT_PORT is set. */
  get enabled(): boolean {
    return this.config.http.managementPort !== undefined;
  }

  /** Its address once listening (`http://host:port`), else undefined. */
  get url(): string | undefined {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) return undefined;
    // As Nest writes its own address: a wildcard address is reached through the loopback.
    const host =
      address.family === 'IPv6'
        ? address.address === '::'
          ? '[::1]'
          : `[${address.address}]`
        : address.address === '0.0.0.0'
          ? '127.0.0.1'
          : address.address;
    return `http://${host}:${address.port}`;
  }

  /** Whether `request` came in through the management port. */
  received(request: IncomingMessage): boolean {
    return this.requests.has(request);
  }

  /** Serves `handler` on MANAGEMENT_PORT (0 picks a free port) and HOST; nothing without it. */
  async listen(handler: RequestListener): Promise<void> {
    const port = this.config.http.managementPort;
    if (port === undefined || this.server) return;
    const server = createServer((request, response) => {
      this.requests.add(request);
      handler(request, response);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.config.http.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeIdleConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
