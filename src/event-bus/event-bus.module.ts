import { Module } from '@nestjs/common';
import { LogModule } from '../log/log.module.js';
import { EventBusService } from './event-bus.service.js';
import { STREAM_HUB } from './stream-hub.js';

@Module({
  imports: [LogModule],
  providers: [EventBusService, { provide: STREAM_HUB, useExisting: EventBusService }],
  exports: [EventBusService, STREAM_HUB],
})
export class EventBusModule {}
