import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AlertChannel,
  AlertChannelRefRequest,
  ChannelTestResult,
  CreateAlertChannelRequest,
  CreatedAlertChannel,
  ListAlertChannelsRequest,
  Subjects,
  UpdateAlertChannelRequest,
} from '@app/contracts';
import { ChannelTester } from './channel-tester';
import { ChannelsService } from './channels.service';

@Controller()
export class ChannelsHandler {
  constructor(
    private readonly channels: ChannelsService,
    private readonly tester: ChannelTester,
  ) {}

  @MessagePattern(Subjects.alerts.testChannel)
  test(@Payload() request: AlertChannelRefRequest): Promise<ChannelTestResult> {
    return this.tester.test(request.organizationId, request.channelId);
  }

  @MessagePattern(Subjects.alerts.listChannels)
  list(@Payload() request: ListAlertChannelsRequest): Promise<AlertChannel[]> {
    return this.channels.list(request.organizationId);
  }

  @MessagePattern(Subjects.alerts.createChannel)
  create(@Payload() request: CreateAlertChannelRequest): Promise<CreatedAlertChannel> {
    return this.channels.create(request.organizationId, request.channel);
  }

  @MessagePattern(Subjects.alerts.updateChannel)
  update(@Payload() request: UpdateAlertChannelRequest): Promise<AlertChannel> {
    return this.channels.update(request.organizationId, request.channelId, request.changes);
  }

  @MessagePattern(Subjects.alerts.deleteChannel)
  async delete(@Payload() request: AlertChannelRefRequest): Promise<{ deleted: true }> {
    await this.channels.delete(request.organizationId, request.channelId);
    return { deleted: true };
  }
}
