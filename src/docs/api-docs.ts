import type { INestApplication } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { GatewayConfig } from '../config/gateway.config.js';

const DESCRIPTION = `
Kafka events to authenticated per-user Server-Sent Event streams.

## The stream: \`GET /events\`

Open it with \`new EventSource('/events?topics=orders,chat', { withCredentials: true })\`. Every
message has:

- \`event:\` the record's \`type\`;
- \`data:\` the record's \`data\`, as JSON;
- \`id:\` the event's Kafka position then where the stream stands, e.g. \`orders/1/98;@4b\` (a
  checkpoint every instance can resolve, at most 128 header-safe characters) or, while a stream
  catches up, the full cursor \`orders/1/98;chat=AQs~orders=A6UT3hEY\`. Treat it as opaque: it
  means the same on every instance.

The gateway also sends \`event: checkpoint\` (empty data: a resume point, on start, on every
heartbeat and before it ends a stream; the first also carries \`retry:\`) and \`event: reset\`
(\`data: {"reason": "expired" | "beyond-horizon" | "unknown-position" | "malformed-id" | "log-changed", "message": "..."}\`) when a
\`Last-Event-ID\` cannot be served completely: refetch your state, the stream then continues live.

EventSource resumes by itself with \`Last-Event-ID\`; \`?lastEventId=\` does the same on a first
request. Errors (400 unknown topic, 401 credentials or a ticket already used, 403 topic not allowed,
429 too many streams with Retry-After, 503 draining with Retry-After) are JSON answers sent before
the stream starts. A ticket from \`POST /events/tickets\` starts one stream: fetch one per attempt.

With \`MANAGEMENT_PORT\` set, these docs, \`/metrics\` and \`/health/*\` are served on that port only.

## Records

A Kafka record's value is \`{"type": string, "data": any, and exactly one of "userId": string,
"userIds": [string], "broadcast": true}\`. Nothing is broadcast by omission.
`;

/** Two folders up from src/docs and from dist/docs alike; the image keeps package.json too. */
const PACKAGE = new URL('../../package.json', import.meta.url);

/** OpenAPI document and UI at /docs (JSON at /docs/json). */
export function setUpApiDocs(app: INestApplication, config: GatewayConfig): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('kafka-sse-gateway')
      .setVersion((JSON.parse(readFileSync(PACKAGE, 'utf8')) as { version: string }).version)
      .setDescription(DESCRIPTION)
      .addBearerAuth()
      .addCookieAuth(config.auth.cookieName)
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json' });
}
