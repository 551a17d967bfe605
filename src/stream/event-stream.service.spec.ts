import { jest } from '@jest/globals';
import { Logger, type MessageEvent } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Observable } from 'rxjs';
import type { AuthUser } from '../auth/auth-user.js';
import { GatewayError } from '../common/gateway-error.js';
import type { EventBusService } from '../event-bus/event-bus.service.js';
import type { PartitionLogService } from '../log/partition-log.service.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import { OwnerRouteException } from '../ownership/owner-route.filter.js';
import type { OwnerRoute } from '../ownership/owner-routing.js';
import { EveryInstance, type Ownership } from '../ownership/ownership.js';
import { newLog, testConfig } from '../testing/fixtures.js';
import { EventStreamService, HEARTBEAT_HEADER } from './event-stream.service.js';
import { streamRequest } from './stream-request.js';

/** A response as Nest hands it over; Nest's first message sends the headers. */
class FakeResponse extends EventEmitter {
  headersSent = false;
  text = '';
  writableLength = 0;
  readonly headers = new Map<string, string>();

  setHeader(name: string, value: string): void {
    this.headers.set(name, value);
  }

  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }

  destroy(): void {}
}

const alice: AuthUser = { id: 'alice', topics: ['orders'], expiresAt: Date.now() + 3_600_000 };

describe(EventStreamService.name, () => {
  let sut: EventStreamService;
  let bus: EventBusService;
  let log: PartitionLogService;
  let metrics: MetricsService;

  const make = (env: Record<string, string> = {}, ownership?: Ownership): void => {
    const config = testConfig({ STREAMS_PER_USER_MAX: '1', ...env });
    ({ bus, log, metrics } = newLog([['orders', 0]], config));
    sut = new EventStreamService(
      config,
      bus,
      log,
      metrics,
      ownership ?? new EveryInstance(config.kafka.topics),
    );
  };

  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    make();
  });

  afterEach(() => {
    sut.onModuleDestroy();
    jest.restoreAllMocks();
  });

  /** Opens as the controller does; a refusal is what `open` throws. */
  const open = (user: AuthUser, query: Record<string, unknown> = {}, response = new FakeResponse()) =>
    sut.open(user, streamRequest(query, undefined), response as unknown as ServerResponse, 'r-1');

  /** Subscribes as Nest does: the first message goes out with the headers. */
  const subscribe = (stream: Observable<MessageEvent>, response: FakeResponse, errors: unknown[] = []) =>
    stream.subscribe({
      next: () => void (response.headersSent = true),
      error: (err: unknown) => errors.push(err),
    });

  const statusOf = (refuse: () => unknown): number => {
    try {
      refuse();
    } catch (err) {
      if (err instanceof GatewayError) return err.status;
      throw err;
    }
    return 200;
  };

  describe('admission', () => {
    it('should refuse before any stream starts: an unknown topic 400, one outside the claim 403', () => {
      expect(statusOf(() => open(alice, { topics: 'nope' }))).toBe(400);
      expect(statusOf(() => open(alice, { topics: 'chat' }))).toBe(403);
      expect(sut.openStreams).toBe(0);
    });

    it("should refuse a user's stream past STREAMS_PER_USER_MAX with a 429, and take it again once one closed", () => {
      const response = new FakeResponse();
      const first = subscribe(open(alice, {}, response), response);

      expect(statusOf(() => open(alice))).toBe(429);
      first.unsubscribe();
      expect(statusOf(() => open(alice))).toBe(200);
    });

    it('should refuse new streams with a 503 and Retry-After once draining', () => {
      sut.drain();

      expect(statusOf(() => open(alice))).toBe(503);
    });

    it('should refuse new streams with a 503 while the instance cannot follow Kafka', () => {
      log.feedLost('the consumer stopped');

      expect(statusOf(() => open(alice))).toBe(503);
    });
  });

  describe('a stream', () => {
    it('should open with the heartbeat header and a resume point, and count itself open', () => {
      const response = new FakeResponse();

      subscribe(open(alice, {}, response), response);

      expect(response.headers.get(HEARTBEAT_HEADER)).toBe('15000');
      expect(sut.openStreams).toBe(1);
      expect(bus.subscriberCount).toBe(1);
    });

    it('should free its slot and its subscription when its start throws', () => {
      jest.spyOn(log, 'liveStart').mockImplementation(() => {
        throw new Error('a bug');
      });
      const errors: unknown[] = [];

      subscribe(open(alice), new FakeResponse(), errors);

      expect(errors).toEqual([new Error('a bug')]);
      expect([sut.openStreams, bus.subscriberCount]).toEqual([0, 0]);
      jest.restoreAllMocks();
      expect(statusOf(() => open(alice))).toBe(200);
    });

    it('should end every stream with a resume point and a retry hint at shutdown', () => {
      const response = new FakeResponse();
      subscribe(open(alice, {}, response), response);

      sut.beforeApplicationShutdown();

      expect(response.text).toMatch(/event: checkpoint\nid: orders=[\w-]+\nretry: 2000\n: shutdown\n/);
      expect(sut.openStreams).toBe(0);
    });
  });

  describe('in partition-owner mode', () => {
    const routed = (route: OwnerRoute): Ownership =>
      Object.assign(new EveryInstance(['orders']), { routeStream: () => route });

    it('should send a request for a user owned elsewhere on, before any stream starts', () => {
      make({}, routed({ kind: 'redirect', node: 'gw-2' }));

      expect(() => open(alice)).toThrow(OwnerRouteException);
      expect(sut.openStreams).toBe(0);
    });

    it("should spend the user's ticket only when its stream starts here, not when it is sent elsewhere", () => {
      let route: OwnerRoute = { kind: 'retry', reason: 'owner-unreachable' };
      make({}, Object.assign(new EveryInstance(['orders']), { routeStream: () => route }));
      const spend = jest.fn();
      const withTicket: AuthUser = { ...alice, ticket: { spend } };

      expect(() => open(withTicket)).toThrow(OwnerRouteException);
      route = { kind: 'serve' };
      const response = new FakeResponse();
      subscribe(open(withTicket, {}, response), response);

      expect(spend).toHaveBeenCalledTimes(1);
    });

    it('should ask again, rather than start a stream, when the partition moved since the request was routed', () => {
      let route: OwnerRoute = { kind: 'serve' };
      make({}, Object.assign(new EveryInstance(['orders']), { routeStream: () => route }));
      const stream = open(alice);
      route = { kind: 'retry', reason: 'not-ready' };
      const errors: unknown[] = [];

      subscribe(stream, new FakeResponse(), errors);

      expect(errors[0]).toBeInstanceOf(OwnerRouteException);
      expect(sut.openStreams).toBe(0);
      route = { kind: 'serve' };
      expect(statusOf(() => open(alice))).toBe(200);
    });
  });
});
