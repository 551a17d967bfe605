import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { AuthUser } from '../auth/auth-user.js';
import { CurrentUser } from '../auth/current-user.decorator.js';
import { EventPublisherService } from './event-publisher.service.js';
import { PublishEventDto, PublishedEventDto } from './publish-event.dto.js';
import { PublisherGuard } from './publisher.guard.js';

@ApiTags('events')
@Controller('events')
export class PublishController {
  constructor(private readonly publisher: EventPublisherService) {}

  @Post()
  @HttpCode(201)
  @UseGuards(PublisherGuard)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Publish an event',
    description:
      'Checks the body against the same event contract the consumer applies and writes it to Kafka, ' +
      'with the token’s `sub` in the `x-gateway-publisher` header; it reaches its streams like any other record. ' +
      'The token needs PUBLISH_CLAIM to contain PUBLISH_VALUE; its optional `topics` claim bounds the topics it writes to.',
  })
  @ApiCreatedResponse({ type: PublishedEventDto, description: 'Where the record was written' })
  @ApiBadRequestResponse({ description: 'The body breaks the event contract; `message` lists every problem' })
  @ApiUnauthorizedResponse({ description: 'No valid bearer token' })
  @ApiForbiddenResponse({ description: 'The token may not publish, or not to this topic' })
  @ApiTooManyRequestsResponse({ description: 'This publisher publishes too fast (Retry-After)' })
  @ApiServiceUnavailableResponse({ description: 'Kafka did not take the event' })
  publish(@CurrentUser() publisher: AuthUser, @Body() body: PublishEventDto): Promise<PublishedEventDto> {
    return this.publisher.publish(publisher, body);
  }
}
