import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The body of `POST /events`: the event contract, plus where to write it. */
export class PublishEventDto {
  @ApiPropertyOptional({
    description: 'One of the configured topics; default: the first of them',
    example: 'notifications',
  })
  topic?: string;

  @ApiPropertyOptional({
    description: 'Record key; default: the userId, for per-user ordering',
    example: 'alice',
  })
  key?: string;

  @ApiProperty({ description: 'The SSE event name', example: 'order.created' })
  type!: string;

  @ApiProperty({ description: 'Any JSON; becomes the SSE data', example: { orderId: 'o-17' } })
  data!: unknown;

  @ApiPropertyOptional({ description: 'Exactly one of userId, userIds, broadcast', example: 'alice' })
  userId?: string;

  @ApiPropertyOptional({ type: [String], description: 'Exactly one of userId, userIds, broadcast' })
  userIds?: string[];

  @ApiPropertyOptional({ enum: [true], description: 'Exactly one of userId, userIds, broadcast' })
  broadcast?: true;
}

/** Where the event was written. */
export class PublishedEventDto {
  @ApiProperty({ example: 'notifications' })
  topic!: string;

  @ApiProperty({ example: 2 })
  partition!: number;

  @ApiProperty({ description: 'Decimal string: Kafka offsets exceed JavaScript numbers', example: '1234' })
  offset!: string;
}
