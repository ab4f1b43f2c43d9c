import { Inject, Injectable } from '@nestjs/common';
import { headers as natsHeaders, JSONCodec, NatsConnection, NatsError } from 'nats';
import {
  AgentConfigAckReply,
  AgentConfigDocument,
  AgentConfigRequest,
  AgentIdentityRecord,
  AgentJwt,
  DomainError,
  EnrollReply,
  EnrollRequest,
  ErrorCodes,
  Headers,
  Heartbeat,
  MetricsBatch,
  metricsMsgId,
  PROTOCOL_VERSION,
  RenewAgentJwtRequest,
  Subjects,
} from '@app/contracts';
import { NATS_CONNECTION, RpcClient } from '@app/messaging';

const json = JSONCodec<unknown>();

/**
 * HTTP intake for agents. Nothing here decides anything: enrollment goes to provisioning as the
 * `agents.enroll` request, renewal to the token service, and heartbeats and metrics an agent signed
 * are republished on that agent's own subjects, so ingestion counts them exactly as if the agent had
 * published them itself (only the gateway and the agent may publish there).
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

  renew(request: RenewAgentJwtRequest): Promise<AgentJwt> {
    return this.rpc.request<AgentJwt, RenewAgentJwtRequest>(Subjects.tokens.agents.renew, request);
  }

  /** Asked on the signing agent's own config subject, as the agent itself would over NATS. */
  config(
    agent: AgentIdentityRecord,
    request: AgentConfigRequest,
  ): Promise<AgentConfigDocument | AgentConfigAckReply> {
    return this.rpc.request<AgentConfigDocument | AgentConfigAckReply, AgentConfigRequest>(
      Subjects.agentConfig(agent.environment, agent.agentId),
      request,
    );
  }

  async heartbeat(agent: AgentIdentityRecord, heartbeat: Heartbeat): Promise<void> {
    authorize(agent, heartbeat.agentId);
    this.nc.publish(Subjects.heartbeat(agent.environment, agent.agentId), json.encode(heartbeat), {
      headers: protocolHeaders(),
    });
    // Core NATS publish is buffered; flush so "202" means the server has it.
    await this.nc.flush();
  }

  /** Stores the batch in AGENT_METRICS; `duplicate` when JetStream had already seen this `<agentId>:<seq>`. */
  async metrics(agent: AgentIdentityRecord, batch: MetricsBatch): Promise<{ duplicate: boolean }> {
    authorize(agent, batch.agentId);
    try {
      const ack = await this.nc
        .jetstream()
        .publish(Subjects.metrics(agent.environment, agent.agentId), json.encode(batch), {
          msgID: metricsMsgId(agent.agentId, batch.seq),
          headers: protocolHeaders(),
        });
      return { duplicate: ack.duplicate };
    } catch (error) {
      if (error instanceof NatsError) {
        throw new DomainError(ErrorCodes.UNAVAILABLE, `metrics could not be stored: ${error.message}`);
      }
      throw error;
    }
  }
}

/** The signing agent may only speak for itself. */
function authorize(agent: AgentIdentityRecord, bodyAgentId: string): void {
  if (agent.agentId !== bodyAgentId) {
    throw new DomainError(ErrorCodes.FORBIDDEN, 'agentId does not match the signing agent');
  }
}

function protocolHeaders() {
  const h = natsHeaders();
  h.set(Headers.protocolVersion, String(PROTOCOL_VERSION));
  return h;
}
