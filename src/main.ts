import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger as PinoLogger } from 'nestjs-pino';
import type { Server } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { AppModule } from './app.module.js';
import { parseGatewayConfig } from './config/gateway.config.js';
import { startGateway } from './gateway.js';
import { ConsumerHealthService } from './kafka/consumer-health.service.js';
import { ManagementServer } from './management/management-server.js';
import { checkKafka } from './startup-check.js';
import { startupMessage } from './startup-error.js';
import { EventStreamService } from './stream/event-stream.service.js';

/** How long connections may stay open once the instance closes. */
const CLOSE_GRACE_MS = 500;

/** Known once the configuration is parsed: start-up messages name them. */
let brokers: string[] | undefined;

async function main(): Promise<void> {
  // Parsed once, before Nest starts, so bad configuration gets one plain message instead of a stack.
  const config = parseGatewayConfig(process.env);
  brokers = config.kafka.brokers;
  await checkKafka(config.kafka);
  const app = await NestFactory.create(AppModule.forRoot(config), { bufferLogs: true });
  // The lines of module loading, in the configured format, now rather than after Kafka connects.
  app.useLogger(app.get(PinoLogger));
  app.flushLogs();
  const logger = new Logger('Gateway');
  const exitWithin = (ms: number, code: number): void => {
    setTimeout(() => {
      console.error(`Shutdown took longer than ${ms} ms; exiting`);
      process.exit(code || 1);
    }, ms).unref();
  };
  /**
   * SIGTERM (an orchestrator replacing the instance): readiness fails and new streams get 503 at
   * once, open streams end with a resume point, and the instance keeps listening for
   * SHUTDOWN_DELAY_MS so load balancers see it go before it closes. SIGINT (Ctrl-C) skips the wait,
   * and so does a second signal.
   */
  const shutDown = async (signal: NodeJS.Signals): Promise<void> => {
    const delayMs = signal === 'SIGTERM' ? config.stream.shutdownDelayMs : 0;
    exitWithin(delayMs + config.stream.shutdownTimeoutMs, 1);
    app.get(EventStreamService).drain();
    if (delayMs > 0) logger.log(`${signal}: draining for ${delayMs} ms, then closing`);
    await delay(delayMs);
    const closed = app.close();
    // By then every stream has its last checkpoint (they end before the server closes). What is
    // still connected is a keep-alive (a proxy's, a fetch client's) or a client that stopped
    // reading, and either would hold the close for its own timeout.
    setTimeout(() => (app.getHttpServer() as Server).closeAllConnections(), CLOSE_GRACE_MS).unref();
    await closed;
    // Ends the process by the signal, as is customary; this handler is gone (once).
    process.kill(process.pid, signal);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      shutDown(signal).catch((err: unknown) => {
        logger.error(`Shutdown failed: ${String(err)}`);
        process.exit(1);
      });
    });
  }
  // A consumer that could not be replaced in time: streams end with a resume point, then the
  // process exits non-zero so that its orchestrator starts another.
  app.get(ConsumerHealthService).onDeath((reason) => {
    logger.error(`The Kafka consumer stopped and could not be replaced (${reason}); exiting`);
    exitWithin(config.stream.shutdownTimeoutMs, 1);
    void app.close().finally(() => process.exit(1));
  });
  await startGateway(app);
  await app.listen(config.http.port, config.http.host);
  const management = app.get(ManagementServer).url;
  logger.log(
    `Listening on ${await app.getUrl()}${management ? `, management on ${management}` : ''}, topics: ${config.kafka.topics.join(', ')}`,
  );
}

main().catch((err: unknown) => {
  console.error(startupMessage(err, brokers));
  // The whole error only when asked for: a person at a terminal gets the line above.
  if (process.env.LOG_LEVEL === 'debug' || process.env.LOG_LEVEL === 'trace') console.error(err);
  process.exit(1);
});
