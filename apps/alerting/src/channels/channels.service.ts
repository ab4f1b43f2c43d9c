import { randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  AlertChannel,
  AlertChannelChanges,
  AlertChannelInput,
  CreatedAlertChannel,
  NotFoundError,
  ValidationFailedError,
} from '@app/contracts';
import { Clock } from '@app/clock';
import { ChannelRow } from '../database';
import { DestinationPolicy } from '../delivery/destination-policy';
import { maskChannelUrl } from './channel-url';
import { ChannelsRepository } from './channels.repository';

/** Recognisable prefix, so a leaked signing secret can be found by a scanner. */
const SECRET_PREFIX = 'rca_whs_';
const HINT_LENGTH = SECRET_PREFIX.length + 4;

/** Notification channels. The signing secret is returned by `create` and never again. */
@Injectable()
export class ChannelsService {
  constructor(
    private readonly channels: ChannelsRepository,
    private readonly clock: Clock,
    private readonly destinations: DestinationPolicy,
  ) {}

  async create(organizationId: string, input: AlertChannelInput): Promise<CreatedAlertChannel> {
    // An address is refused now; a name is judged on what it resolves to at every delivery.
    const refusal = this.destinations.refusalForUrl(input.url);
    if (refusal) throw new ValidationFailedError([{ field: 'url', reason: refusal }]);
    const row: ChannelRow = {
      id: randomUUID(),
      organization_id: organizationId,
      name: input.name,
      type: input.type,
      url: input.url,
      secret: SECRET_PREFIX + randomBytes(32).toString('base64url'),
      created_at: this.clock.now(),
    };
    await this.channels.insert(row);
    return { ...toAlertChannel(row), url: row.url, secret: row.secret };
  }

  /** Rename or re-point a channel; its type and signing secret stay, and the URL is shown masked again. */
  async update(
    organizationId: string,
    channelId: string,
    changes: AlertChannelChanges,
  ): Promise<AlertChannel> {
    if (changes.url !== undefined) {
      const refusal = this.destinations.refusalForUrl(changes.url);
      if (refusal) throw new ValidationFailedError([{ field: 'url', reason: refusal }]);
    }
    const set = {
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.url !== undefined ? { url: changes.url } : {}),
    };
    const found =
      Object.keys(set).length > 0
        ? await this.channels.update(organizationId, channelId, set)
        : (await this.channels.get(organizationId, channelId)) !== undefined;
    if (!found) throw new NotFoundError(`channel ${channelId}`);
    return toAlertChannel((await this.channels.get(organizationId, channelId))!);
  }

  async list(organizationId: string): Promise<AlertChannel[]> {
    return (await this.channels.list(organizationId)).map(toAlertChannel);
  }

  async delete(organizationId: string, channelId: string): Promise<void> {
    if (!(await this.channels.delete(organizationId, channelId)))
      throw new NotFoundError(`channel ${channelId}`);
  }
}

/** Every response but creation's: no secret, and the URL masked. */
function toAlertChannel(row: ChannelRow): AlertChannel {
  return {
    id: row.id,
    organizationId: row.organization_id,
    name: row.name,
    type: row.type,
    url: maskChannelUrl(row.type, row.url),
    secretHint: row.secret.slice(0, HINT_LENGTH),
    createdAt: new Date(row.created_at).toISOString(),
  };
}
