import { Module } from '@nestjs/common';
import { EventHub } from './event-hub';
import { EventsStreamController } from './events-stream.controller';

/** `GET /api/v1/events/stream`: the organisation's EVENTS, live, for the dashboard and scripts. */
@Module({
  controllers: [EventsStreamController],
  providers: [EventHub],
  exports: [EventHub],
})
export class LiveModule {}
