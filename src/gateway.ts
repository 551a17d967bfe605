import { Logger as NestLogger, type INestApplication } from '@nestjs/common';
import type { RequestListener } from 'node:http';
import { Logger } from 'nestjs-pino';
import { GATEWAY_CONFIG, type GatewayConfig } from './config/gateway.config.js';
import { setUpApiDocs } from './docs/api-docs.js';
import { GatewayKafkaServer } from './kafka/gateway-kafka.server.js';
import { HEARTBEAT_HEADER } from './stream/event-stream.service.js';
import { separateManagementRoutes } from './management/management-routes.js';
import { ManagementServer } from './management/management-server.js';

/**
 * Everything the gateway needs beyond its modules, shared by main.ts and the e2e tests: logger,
 * the management port's split, CORS, API docs, and the Kafka transport attached as a
 * microservice, started before the HTTP server listens. Signals are main.ts's: it drains first.
 */
export async function startGateway(app: INestApplication): Promise<void> {
  const config = app.get<GatewayConfig>(GATEWAY_CONFIG);
  app.useLogger(app.get(Logger));
  const logger = new NestLogger('Gateway');
  for (const warning of config.warnings) logger.warn(warning);
  const management = app.get(ManagementServer);
  // First of all, so that no route, however it is written, answers on the wrong port.
  app.use(separateManagementRoutes(management));
  const { corsOrigins } = config.http;
  // Only listed origins, with credentials; the configuration refuses a wildcard.
  if (corsOrigins.length > 0) {
    app.enableCors({
      origin: corsOrigins,
      credentials: true,
      methods: ['GET', 'POST'],
      allowedHeaders: ['Authorization', 'Content-Type', 'Last-Event-ID'],
      // A fetch-based client reads these across origins: when to retry, the server's clock (token
      // rotation is timed by it), and how often heartbeats come.
      exposedHeaders: ['Retry-After', 'Date', HEARTBEAT_HEADER],
      maxAge: 600,
    });
  }
  setUpApiDocs(app, config);
  app.connectMicroservice({ strategy: app.get(GatewayKafkaServer) }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.init();
  await management.listen(app.getHttpAdapter().getInstance() as RequestListener);
}
