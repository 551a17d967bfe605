import { Inject, Injectable, type MessageEvent } from '@nestjs/common';
import { Observable } from 'rxjs';
import type { AuthUser } from '../auth/auth-user.js';
import { gatewayConfig, type GatewayConfig } from '../config/gateway.config.js';
import { EventBusService } from '../event-bus/event-bus.service.js';
import { selectTopics } from './topic-selection.js';

/** setTimeout fires at once for delays past 2^31-1 ms; longer waits are re-armed. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

@Injectable()
export class EventStreamService {
  constructor(
    @Inject(gatewayConfig.KEY) private readonly config: GatewayConfig,
    private readonly bus: EventBusService,
  ) {}

  /**
   * Checks the request, then returns the user's stream. Throws 400/403 before any stream starts.
   */
  open(user: AuthUser, topicsQuery: unknown): Observable<MessageEvent> {
    const topics = selectTopics(this.config.kafka.topics, user.topics, topicsQuery);
    return this.streamFor(user, topics);
  }

  private streamFor(user: AuthUser, topics: readonly string[]): Observable<MessageEvent> {
    const { heartbeatMs, retryMs } = this.config.stream;
    return new Observable<MessageEvent>((subscriber) => {
      // The first message sets the reconnection delay and a resume point, so a client cut off
      // before its first event still resumes from where it started.
      subscriber.next({ retry: retryMs, id: this.bus.checkpoint(topics), comment: 'connected' });
      const unsubscribe = this.bus.subscribe({
        userId: user.id,
        topics,
        deliver: (event, id) => subscriber.next({ type: event.type, id, data: event.data }),
      });
      // Heartbeats carry the current resume point: an idle stream's id stays fresh.
      const heartbeat = setInterval(() => subscriber.next({ comment: '', id: this.bus.checkpoint(topics) }), heartbeatMs);
      const expiry = completeAt(user.expiresAt, () => subscriber.complete());
      return () => {
        unsubscribe();
        clearInterval(heartbeat);
        expiry.cancel();
      };
    });
  }
}

function completeAt(epochMs: number, done: () => void): { cancel(): void } {
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const delay = epochMs - Date.now();
    if (delay <= 0) return done();
    timer = setTimeout(arm, Math.min(delay, MAX_TIMER_DELAY_MS));
  };
  arm();
  return { cancel: () => clearTimeout(timer) };
}
