import { Module } from '@nestjs/common';
import { DemoEnabledGuard } from './demo-enabled.guard.js';
import { DemoController } from './demo.controller.js';
import { DemoTokenService } from './demo-token.service.js';

@Module({
  controllers: [DemoController],
  providers: [DemoTokenService, DemoEnabledGuard],
})
export class DemoModule {}
