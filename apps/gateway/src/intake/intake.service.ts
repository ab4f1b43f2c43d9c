import { Inject, Injectable } from '@nestjs/common';
import { headers as natsHeaders, JSONCodec, NatsConnection, NatsError } from 'nats';
import {
  DomainError,
  EnrollReply,
  EnrollRequest,
  ErrorCodes,
  Headers,
  Heartbeat,
  MetricsBatch,
  metricsMsgId,
  PROTOCOL_VERSION,
  Subjects,
} from '@app/contracts';
import { NATS_CONNECTION, RpcClient } from '@app/messaging';
import { IntakeCaller } from './intake-auth.guard';

const json = JSONCodec<unknown>();

/**
 * HTTP intake for agents that cannot reach NATS. Nothing here decides anything: enrollment goes
 * to provisioning as the same `agents.enroll` request, heartbeats and metrics are republished on
 * the agent's own subjects with its credential, so ingestion checks and counts them exactly as if
 * the agent had published them itself.
 */
@Injectable()
export class IntakeService {
  constructor(
    private readonly rpc: RpcClient,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
  ) {}

  enroll(enrollmentToken: string, request: EnrollRequest): Promise<EnrollReply> {
    return this.rpc.request<EnrollReply, EnrollRequest>(Subjects.enroll, request, {
      headers: { [Headers.enrollmentToken]: enrollmentToken },
    });
  }

  async heartbeat(caller: IntakeCaller, heartbeat: Heartbeat): Promise<void> {
    const agent = this.authorize(caller, heartbeat.agentId);
    this.nc.publish(Subjects.heartbeat(agent.environment, agent.agentId), json.encode(heartbeat), {
      headers: this.headersFor(caller.token),
    });
    // Core NATS publish is buffered; flush so "202" means the server has it.
    await this.nc.flush();
  }

  /** Stores the batch in AGENT_METRICS; `duplicate` when JetStream had already seen this `<agentId>:<seq>`. */
  async metrics(caller: IntakeCaller, batch: MetricsBatch): Promise<{ duplicate: boolean }> {
    const agent = this.authorize(caller, batch.agentId);
    try {
      const ack = await this.nc
        .jetstream()
        .publish(Subjects.metrics(agent.environment, agent.agentId), json.encode(batch), {
          msgID: metricsMsgId(agent.agentId, batch.seq),
          headers: this.headersFor(caller.token),
        });
      return { duplicate: ack.duplicate };
    } catch (error) {
      if (error instanceof NatsError) {
        throw new DomainError(ErrorCodes.UNAVAILABLE, `metrics could not be stored: ${error.message}`);
      }
      throw error;
    }
  }

  /** The verified credential (IntakeAuthGuard) must name the agent the body speaks for. */
  private authorize(caller: IntakeCaller, agentId: string): { agentId: string; environment: string } {
    const verified = caller.verified;
    if (!verified?.agentId || !verified.environment) {
      throw new DomainError(ErrorCodes.FORBIDDEN, 'credential is not bound to an agent');
    }
    if (verified.agentId !== agentId) {
      throw new DomainError(ErrorCodes.FORBIDDEN, 'agentId does not match the credential');
    }
    return { agentId: verified.agentId, environment: verified.environment };
  }

  private headersFor(credential: string) {
    const h = natsHeaders();
    h.set(Headers.credential, credential);
    h.set(Headers.protocolVersion, String(PROTOCOL_VERSION));
    return h;
  }
}
