import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { DemoEnabledGuard } from './demo-enabled.guard.js';
import { DemoController } from './demo.controller.js';
import { DemoTokenService } from './demo-token.service.js';

@Module({
  imports: [AuthModule],
  controllers: [DemoController],
  providers: [DemoTokenService, DemoEnabledGuard],
})
export class DemoModule {}
