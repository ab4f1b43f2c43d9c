import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ChannelTestResult, NotFoundError } from '@app/contracts';
import { Clock } from '@app/clock';
import { AlertingConfig } from '../config';
import { WebhookSender } from '../delivery/webhook-sender';
import { ChannelsRepository } from './channels.repository';
import { renderNotification } from './notification-format';

/**
 * "Send a test": one signed notification of a made-up alert, sent now through the same sender (same
 * destination policy, timeout and signature) as real deliveries, so a wrong URL or secret shows at once.
 * Not retried and not in the delivery log: the answer is the result.
 */
@Injectable()
export class ChannelTester {
  constructor(
    private readonly channels: ChannelsRepository,
    private readonly sender: WebhookSender,
    private readonly config: AlertingConfig,
    private readonly clock: Clock,
  ) {}

  async test(organizationId: string, channelId: string): Promise<ChannelTestResult> {
    const channel = await this.channels.get(organizationId, channelId);
    if (!channel) throw new NotFoundError(`channel ${channelId}`);
    const now = new Date(this.clock.now()).toISOString();
    const deliveryId = `test-${randomUUID()}`;
    const body = renderNotification(
      channel.type,
      deliveryId,
      {
        id: deliveryId,
        organizationId,
        ruleId: 'test',
        ruleName: 'Test notification',
        kind: 'agent_offline',
        state: 'firing',
        agentId: null,
        environment: null,
        summary: `test notification to channel "${channel.name}": nothing is wrong`,
        openedAt: now,
        firedAt: now,
        resolvedAt: null,
        acknowledgedAt: null,
        acknowledgedBy: null,
      },
      'firing',
    );
    const result = await this.sender.send(
      channel.url,
      body,
      channel.secret,
      deliveryId,
      this.config.ALERT_DELIVERY_TIMEOUT_MS,
    );
    return {
      delivered: result.ok,
      statusCode: result.statusCode,
      error: result.error,
      durationMs: result.durationMs,
    };
  }
}
