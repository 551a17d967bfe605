import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { ConfigError, parseGatewayConfig } from './config/gateway.config.js';
import { startGateway } from './gateway.js';
import { ConsumerHealthService } from './kafka/consumer-health.service.js';

async function main(): Promise<void> {
  // Parsed once, before Nest starts, so bad configuration gets one plain message instead of a stack.
  const config = parseGatewayConfig(process.env);
  const app = await NestFactory.create(AppModule.forRoot(config), { bufferLogs: true });
  const logger = new Logger('Gateway');
  const exitWithin = (code: number): void => {
    setTimeout(() => {
      console.error(`Shutdown took longer than ${config.stream.shutdownTimeoutMs} ms; exiting`);
      process.exit(code || 1);
    }, config.stream.shutdownTimeoutMs).unref();
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    // Nest closes the app on these signals; this bounds how long that may take.
    process.once(signal, () => exitWithin(1));
  }
  // A consumer that could not be replaced in time: streams end with a resume point, then the
  // process exits non-zero so that its orchestrator starts another.
  app.get(ConsumerHealthService).onDeath((reason) => {
    logger.error(`The Kafka consumer stopped and could not be replaced (${reason}); exiting`);
    exitWithin(1);
    void app.close().finally(() => process.exit(1));
  });
  await startGateway(app);
  await app.listen(config.http.port, config.http.host);
  logger.log(`Listening on ${await app.getUrl()}, topics: ${config.kafka.topics.join(', ')}`);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(err.message);
  } else {
    console.error(err);
  }
  process.exit(1);
});
