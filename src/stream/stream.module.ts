import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { EventBusModule } from '../event-bus/event-bus.module.js';
import { LogModule } from '../log/log.module.js';
import { OwnershipModule } from '../ownership/ownership.module.js';
import { EventStreamService } from './event-stream.service.js';
import { EventsController } from './events.controller.js';

@Module({
  imports: [AuthModule, EventBusModule, LogModule, OwnershipModule],
  controllers: [EventsController],
  providers: [EventStreamService],
  exports: [EventStreamService],
})
export class StreamModule {}
