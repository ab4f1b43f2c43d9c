import { Inject, Injectable } from '@nestjs/common';
import { JSONCodec, NatsConnection } from 'nats';
import { AgentConfigDocument, AgentControlMessage, Subjects } from '@app/contracts';
import { NATS_CONNECTION } from '@app/messaging';

const json = JSONCodec<AgentControlMessage>();

/**
 * Sends configurations to running agents on their control subjects (core NATS: an agent that is not
 * connected misses it, and fetches its config itself when it connects again).
 */
@Injectable()
export class ConfigPusher {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  /** One message per agent; agents with the same document share its encoded bytes. */
  async push(
    environment: string,
    targets: { agentId: string; config: AgentConfigDocument }[],
  ): Promise<void> {
    const encoded = new Map<AgentConfigDocument, Uint8Array>();
    for (const { agentId, config } of targets) {
      let data = encoded.get(config);
      if (!data) encoded.set(config, (data = json.encode({ type: 'config', config })));
      this.nc.publish(Subjects.agentControl(environment, agentId), data);
    }
    // Best effort, like `revoked`: the agents that miss it catch up when they fetch.
    await this.nc.flush().catch(() => undefined);
  }
}
