import { Module } from '@nestjs/common';
import { ManagementServer } from './management-server.js';

/** The management port: metrics, probes and docs apart from the public port (MANAGEMENT_PORT). */
@Module({
  providers: [ManagementServer],
  exports: [ManagementServer],
})
export class ManagementModule {}
