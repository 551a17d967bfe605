import type { INestApplication } from '@nestjs/common';
import { connectKafkaTransport } from './kafka/kafka-transport.js';

/**
 * Everything the gateway needs beyond its modules, shared by main.ts and the e2e tests: the Kafka
 * consumer attached as a microservice, started before the HTTP server listens.
 */
export async function startGateway(app: INestApplication): Promise<void> {
  app.enableShutdownHooks();
  await connectKafkaTransport(app);
  await app.startAllMicroservices();
}
