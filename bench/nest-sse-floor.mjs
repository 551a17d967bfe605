// @ts-check
/**
 * The Nest @Sse() floor: the least a NestJS application holds per open stream, on the Express
 * adapter (the gateway's) or on the Fastify one (NEST_FLOOR_ADAPTER=fastify). One `@Sse()` route
 * returning an Observable that emits one message (with which Nest sends the headers) and then
 * stays open, the bench's HS256 tokens checked as the raw floor checks them, and nothing else: no
 * Kafka, no guards, no logger. The benchmark opens its idle streams on it to tell what the
 * framework costs per connection from what the gateway adds on top, and what each HTTP platform
 * costs.
 *
 *   PORT=0 JWT_SECRET=… [NEST_FLOOR_ADAPTER=fastify] node bench/nest-sse-floor.mjs
 */
import 'reflect-metadata';
import { Controller, Get, Headers, HttpCode, Module, Sse, UnauthorizedException } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Observable } from 'rxjs';
import { verifyHs256 } from './harness/jwt.mjs';

const secret = process.env.JWT_SECRET ?? '';
if (secret.length < 32) {
  console.error('nest-sse-floor needs a JWT_SECRET of 32+ characters');
  process.exit(1);
}

class FloorController {
  /** @param {string | undefined} authorization */
  events(authorization) {
    const header = authorization ?? '';
    const userId = /^bearer /i.test(header) ? verifyHs256(secret, header.slice(7).trim()) : undefined;
    if (userId === undefined) throw new UnauthorizedException();
    return new Observable((subscriber) => {
      subscriber.next({ type: 'open', data: '' });
    });
  }

  ready() {
    return { status: 'ready' };
  }
}

// Plain JavaScript: the decorators are applied as TypeScript would apply them.
/** @param {string} name @param {MethodDecorator[]} decorators */
const decorate = (name, decorators) =>
  Reflect.decorate(
    decorators,
    FloorController.prototype,
    name,
    Object.getOwnPropertyDescriptor(FloorController.prototype, name),
  );
/** @type {MethodDecorator} */
const authorizationHeader = (target, key) => Headers('authorization')(target, key, 0);
decorate('events', [Sse('events'), authorizationHeader]);
decorate('ready', [Get('health/ready'), HttpCode(200)]);
Reflect.decorate([Controller()], FloorController);
class FloorModule {}
Reflect.decorate([Module({ controllers: [FloorController] })], FloorModule);

const adapter = process.env.NEST_FLOOR_ADAPTER ?? 'express';
if (adapter !== 'express' && adapter !== 'fastify') {
  console.error(`nest-sse-floor: NEST_FLOOR_ADAPTER=${adapter}: expected express or fastify`);
  process.exit(1);
}
const app =
  adapter === 'fastify'
    ? await NestFactory.create(FloorModule, new (await import('@nestjs/platform-fastify')).FastifyAdapter(), {
        logger: false,
      })
    : await NestFactory.create(FloorModule, { logger: false });
const host = process.env.HOST ?? '127.0.0.1';
await app.listen(Number(process.env.PORT ?? 0), host);
console.log(`Listening on ${await app.getUrl()}`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
