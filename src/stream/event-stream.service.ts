import {
  Inject,
  Injectable,
  ServiceUnavailableException,
  type BeforeApplicationShutdown,
  type MessageEvent,
} from '@nestjs/common';
import { Observable } from 'rxjs';
import type { AuthUser } from '../auth/auth-user.js';
import { gatewayConfig, type GatewayConfig } from '../config/gateway.config.js';
import { EventBusService } from '../event-bus/event-bus.service.js';
import { selectTopics } from './topic-selection.js';
import { UserStream } from './user-stream.js';

@Injectable()
export class EventStreamService implements BeforeApplicationShutdown {
  private readonly open = new Set<UserStream>();
  private draining = false;

  constructor(
    @Inject(gatewayConfig.KEY) private readonly config: GatewayConfig,
    private readonly bus: EventBusService,
  ) {}

  get openStreams(): number {
    return this.open.size;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /**
   * Checks the request, then returns the user's stream, resumed after `lastEventId` when given.
   * Throws 400/403/503 before any stream starts.
   */
  streamFor(user: AuthUser, topicsQuery: unknown, lastEventId: string | undefined): Observable<MessageEvent> {
    if (this.draining)
      throw new ServiceUnavailableException('The gateway is shutting down; reconnect to another instance');
    const topics = selectTopics(this.config.kafka.topics, user.topics, topicsQuery);
    return new Observable<MessageEvent>((observer) => {
      const stream = new UserStream(observer, user, topics, this.bus, this.config);
      this.open.add(stream);
      stream.start(lastEventId);
      return () => {
        this.open.delete(stream);
        stream.stop();
      };
    });
  }

  /** Ends every stream with a resume point, so clients reconnect elsewhere and the server can close. */
  beforeApplicationShutdown(): void {
    this.draining = true;
    for (const stream of [...this.open]) stream.end('shutdown');
  }
}
