import { Module } from '@nestjs/common';
import { PARTITION_LOG } from './partition-log.js';
import { PartitionLogService } from './partition-log.service.js';

@Module({
  providers: [PartitionLogService, { provide: PARTITION_LOG, useExisting: PartitionLogService }],
  exports: [PARTITION_LOG],
})
export class LogModule {}
