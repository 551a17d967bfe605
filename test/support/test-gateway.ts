import type { INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { Test } from '@nestjs/testing';
import { AppModule } from '../../src/app.module.js';
import { parseGatewayConfig } from '../../src/config/gateway.config.js';
import { EventBusService } from '../../src/event-bus/event-bus.service.js';
import { PARTITION_LOG, type PartitionLog } from '../../src/log/partition-log.js';
import { startGateway } from '../../src/gateway.js';
import { ManagementServer } from '../../src/management/management-server.js';
import { MetricsService } from '../../src/metrics/metrics.service.js';
import { TEST_TOPICS } from './test-topics.mjs';
import { TEST_AUDIENCE, TEST_ISSUER, TEST_JWT_SECRET } from './tokens.js';
import { waitFor } from './wait-for.js';

export interface TestGateway {
  readonly app: INestApplication;
  readonly url: string;
  /** Where metrics, probes and docs are served: the management port with MANAGEMENT_PORT, else `url`. */
  readonly managementUrl: string;
  readonly bus: EventBusService;
  readonly log: PartitionLog;
  /** The sum of a metric's values whose labels include `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Cuts every open connection from the server side, as a proxy or a crash would. */
  cutConnections(): number;
  close(): Promise<void>;
}

export const TEST_ENV: Record<string, string> = {
  HOST: '127.0.0.1',
  KAFKA_TOPICS: TEST_TOPICS.join(','),
  JWT_SECRET: TEST_JWT_SECRET,
  JWT_AUDIENCE: TEST_AUDIENCE,
  JWT_ISSUER: TEST_ISSUER,
  AUTH_COOKIE_NAME: 'session',
  SSE_RETRY_MS: '200',
  // Suites open streams far faster than a real client would; the limits suite checks the rates.
  STREAM_OPENS_PER_SECOND: '1000000',
  STREAM_OPENS_PER_USER_PER_MINUTE: '1000000',
  // Suites publish faster than a publisher may; the operations suite checks the rate.
  PUBLISH_RATE_PER_SECOND: '1000000',
  LOG_LEVEL: process.env.E2E_LOGS ? 'debug' : 'silent',
};

/**
 * The real AppModule on port 0, consuming from the suite's broker. `env` overrides the test
 * configuration for this gateway only, in the form of the environment variables.
 */
export async function startTestGateway(env: Record<string, string> = {}): Promise<TestGateway> {
  const config = parseGatewayConfig({ KAFKA_BROKERS: process.env.KAFKA_BROKERS, ...TEST_ENV, ...env });
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
  const app: INestApplication = moduleRef.createNestApplication({
    logger: process.env.E2E_LOGS ? undefined : false,
  });
  await startGateway(app);
  const sockets = new Set<Socket>();
  const server = app.getHttpServer() as Server;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  const managementUrl = app.get(ManagementServer).url ?? url;
  // Warm first: the history of the shared broker (other suites' records) is processed before the
  // suite counts anything.
  await waitFor(
    async () => (await fetch(`${managementUrl}/health/ready`)).status === 200,
    'the gateway to be ready',
    60_000,
  );
  return {
    app,
    url,
    managementUrl,
    bus: app.get(EventBusService),
    log: app.get(PARTITION_LOG),
    metric: async (name, labels = {}) => {
      const metric = await app.get(MetricsService).registry.getSingleMetric(name)?.get();
      if (!metric) throw new Error(`No metric ${name}`);
      const matches = metric.values.filter((value) =>
        Object.entries(labels).every(([label, wanted]) => String(value.labels[label]) === wanted),
      );
      return matches.reduce((sum, value) => sum + value.value, 0);
    },
    cutConnections: () => {
      const count = sockets.size;
      sockets.forEach((socket) => socket.destroy());
      return count;
    },
    close: () => app.close(),
  };
}
