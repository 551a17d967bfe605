import { Module } from '@nestjs/common';
import { DemoClientBundle } from './demo-client.bundle.js';
import { AuthModule } from '../auth/auth.module.js';
import { DemoEnabledGuard } from './demo-enabled.guard.js';
import { DemoController } from './demo.controller.js';
import { DemoTokenService } from './demo-token.service.js';

@Module({
  imports: [AuthModule],
  controllers: [DemoController],
  providers: [DemoTokenService, DemoEnabledGuard, DemoClientBundle],
})
export class DemoModule {}
