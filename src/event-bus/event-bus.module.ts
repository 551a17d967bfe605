import { Module } from '@nestjs/common';
import { EventBusService } from './event-bus.service.js';

@Module({
  providers: [EventBusService],
  exports: [EventBusService],
})
export class EventBusModule {}
