import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { ConfigError, parseGatewayConfig } from './config/gateway.config.js';
import { startGateway } from './gateway.js';

async function main(): Promise<void> {
  // Checked before Nest starts, so bad configuration gets one plain message instead of a stack.
  const config = parseGatewayConfig(process.env);
  const app = await NestFactory.create(AppModule, { bufferLogs: true });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    // Nest closes the app on these signals; this bounds how long that may take.
    process.once(signal, () => {
      setTimeout(() => {
        console.error(`Shutdown took longer than ${config.stream.shutdownTimeoutMs} ms; exiting`);
        process.exit(1);
      }, config.stream.shutdownTimeoutMs).unref();
    });
  }
  await startGateway(app);
  await app.listen(config.http.port, config.http.host);
  new Logger('Gateway').log(`Listening on ${await app.getUrl()}, topics: ${config.kafka.topics.join(', ')}`);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(err.message);
  } else {
    console.error(err);
  }
  process.exit(1);
});
