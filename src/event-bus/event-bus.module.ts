import { Module } from '@nestjs/common';
import { EventBusService } from './event-bus.service.js';
import { OwnershipService } from './ownership.service.js';
import { STREAM_HUB } from './stream-hub.js';

@Module({
  providers: [EventBusService, { provide: STREAM_HUB, useExisting: EventBusService }, OwnershipService],
  exports: [EventBusService, STREAM_HUB, OwnershipService],
})
export class EventBusModule {}
