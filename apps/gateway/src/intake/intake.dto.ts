import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  AgentJwt,
  AgentKeyClaim,
  CollectionStatus,
  CollectorError,
  EnrollReply,
  EnrollRequest,
  HandoverProof,
  Heartbeat,
  HostIdentity,
  MetricSample,
  MetricsBatch,
  MAX_HEARTBEAT_SOURCES,
  RenewAgentJwtRequest,
  SourceHealth,
} from '@app/contracts';

/*
 * The agent wire messages (libs/contracts/src/agent-messages.ts, agent-identity.ts) as the OpenAPI document
 * shows them: camelCase, exactly as on NATS. The contracts validate them and carry no OpenAPI metadata;
 * `implements` keeps these documentation classes' fields those of the wire.
 */

const AGENT_ID = { example: 'ag_fH2E2Vwna1pJYKU3', pattern: '^[A-Za-z0-9_-]{1,64}$' };
const PUBLIC_KEY = {
  example: 'UAXPLLC3N4AWOCEZ2WCOCTAAKAEOWO3GHF4EQGEDGYBU4JOCVKSXGYGX',
  pattern: '^U[A-Z2-7]{55}$',
  description: 'The nkey user public key the agent generated on its host',
};
const SIGNATURE = {
  example: 'xT5ceTc0YWP8PEKpxiE7RFoRbAxUodJUM9g7nNMtehseRM9BRIPb9HFY31_rSrOYbcOITb_vScFx6xOWjTtlDw',
  pattern: '^[A-Za-z0-9_-]{86}$',
  description: 'base64url Ed25519 signature (docs/protocol.md says of what)',
};
const MS = { description: 'ms since the epoch' };

export class HostIdentityBody implements HostIdentity {
  @ApiProperty({ maxLength: 255, example: 'web-1' }) hostname!: string;
  @ApiProperty({
    maxLength: 255,
    example: '4c4c4544-0042-3510-8052-b4c04f4d4c31',
    description: 'Stable machine id',
  })
  hostId!: string;
  @ApiProperty({ maxLength: 64, example: 'linux' }) os!: string;
  @ApiPropertyOptional({ maxLength: 255, example: '6.8.0-45-generic' }) osVersion?: string;
  @ApiPropertyOptional({ maxLength: 64, example: 'x64' }) arch?: string;
}

export class HandoverProofBody implements HandoverProof {
  @ApiProperty({ ...AGENT_ID, description: 'The agent record this host had' }) agentId!: string;
  @ApiProperty({ ...SIGNATURE, description: 'Signed by the key on record' }) signature!: string;
}

export class AgentKeyClaimBody implements AgentKeyClaim {
  @ApiProperty(PUBLIC_KEY) publicKey!: string;
  @ApiProperty({ ...SIGNATURE, description: 'Proof of possession, signed by the new key' }) proof!: string;
  @ApiPropertyOptional({
    type: HandoverProofBody,
    description: 'Re-enrollment of a known host keeps its record',
  })
  handover?: HandoverProofBody;
}

/** `POST /api/v1/intake/enroll` body (the `agents.enroll` request). */
export class EnrollBody implements EnrollRequest {
  @ApiProperty({ maxLength: 64, example: 'docker' }) agentType!: string;
  @ApiProperty({ maxLength: 64, example: '0.1.0' }) agentVersion!: string;
  @ApiProperty({ type: HostIdentityBody }) host!: HostIdentityBody;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { team: 'payments' },
  })
  labels?: Record<string, string>;
  @ApiProperty({ type: AgentKeyClaimBody }) identity!: AgentKeyClaimBody;
}

export class EnrollReplyView implements EnrollReply {
  @ApiProperty(AGENT_ID) agentId!: string;
  @ApiProperty({ example: 'eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ…', description: 'NATS user JWT' })
  jwt!: string;
  @ApiProperty({ format: 'date-time', example: '2026-01-06T10:00:00.000Z' }) jwtExpiresAt!: string;
  @ApiProperty({ example: '0b6f3c2e-9a41-4c55-8d1e-5f2a7b9c0d13' }) organizationId!: string;
  @ApiProperty({ example: 'prod-1' }) environment!: string;
  @ApiProperty({ example: 30, description: 'Seconds between heartbeats the platform expects' })
  heartbeatIntervalSeconds!: number;
  @ApiProperty({ example: 1 }) protocolVersion!: number;
  @ApiProperty({ example: false, description: 'This host got its existing agent record back' })
  reenrolled!: boolean;
}

/** `POST /api/v1/intake/renew` body. */
export class RenewBody implements RenewAgentJwtRequest {
  @ApiProperty(AGENT_ID) agentId!: string;
  @ApiProperty(PUBLIC_KEY) publicKey!: string;
  @ApiProperty({ ...MS, minimum: 1, example: 1767607200000 }) signedAt!: number;
  @ApiProperty(SIGNATURE) signature!: string;
}

export class AgentJwtView implements AgentJwt {
  @ApiProperty({ example: 'eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ…', description: 'NATS user JWT' })
  jwt!: string;
  @ApiProperty({ format: 'date-time', example: '2026-01-06T10:00:00.000Z' }) expiresAt!: string;
}

export class CollectorErrorBody implements CollectorError {
  @ApiProperty({ maxLength: 100, example: 'containers' }) collector!: string;
  @ApiProperty({ maxLength: 1000, example: 'connect ENOENT /var/run/docker.sock' }) error!: string;
}

export class CollectionStatusBody implements CollectionStatus {
  @ApiProperty({ example: true }) ok!: boolean;
  @ApiProperty({ ...MS, example: 1767607195000 }) at!: number;
  @ApiProperty({ minimum: 0, example: 42 }) durationMs!: number;
  @ApiProperty({ minimum: 0, example: 57 }) samples!: number;
  @ApiProperty({ type: [CollectorErrorBody], maxItems: 100 }) errors!: CollectorErrorBody[];
}

export class SourceHealthBody implements SourceHealth {
  @ApiProperty({ maxLength: 100, example: 'scrape:checkout' }) name!: string;
  @ApiProperty({ example: true }) up!: boolean;
  @ApiPropertyOptional({ maxLength: 500, example: 'timed out after 5000 ms' }) lastError?: string;
  @ApiProperty({ minimum: 0, example: 41.5 }) lastDurationMs!: number;
  @ApiProperty({ minimum: 0, example: 212 }) series!: number;
  @ApiProperty({ ...MS, example: 1767607190000 }) lastRunAt!: number;
}

/** `POST /api/v1/intake/heartbeat` body (as published on `agents.<env>.<agentId>.heartbeat`). */
export class HeartbeatBody implements Heartbeat {
  @ApiProperty(AGENT_ID) agentId!: string;
  @ApiProperty({ ...MS, example: 1767607200000, description: 'ms since the epoch, agent clock' })
  sentAt!: number;
  @ApiProperty({ maxLength: 64, example: 'docker' }) agentType!: string;
  @ApiProperty({ maxLength: 64, example: '0.1.0' }) agentVersion!: string;
  @ApiProperty({ minimum: 0, example: 86400 }) uptimeSeconds!: number;
  @ApiProperty({ minimum: 1, maximum: 3600, example: 30 }) intervalSeconds!: number;
  @ApiProperty({ enum: ['running', 'stopping'], example: 'running' }) state!: 'running' | 'stopping';
  @ApiProperty({ type: HostIdentityBody }) host!: HostIdentityBody;
  @ApiPropertyOptional({ type: CollectionStatusBody }) lastCollection?: CollectionStatusBody;
  @ApiProperty({ minimum: 0, example: 0, description: "Metric batches waiting in the agent's buffer" })
  buffered!: number;
  @ApiProperty({ minimum: 0, example: 0, description: 'Metric batches dropped (buffer full) since start' })
  dropped!: number;
  @ApiPropertyOptional({
    minimum: 0,
    maximum: 1,
    example: 0.02,
    description: 'How full the buffer is, 0 to 1',
  })
  bufferFill?: number;
  @ApiPropertyOptional({
    type: [SourceHealthBody],
    maxItems: MAX_HEARTBEAT_SOURCES,
    description: 'Application-metrics sources and their last run; absent when the agent has none',
  })
  sources?: SourceHealthBody[];
}

export class MetricSampleBody implements MetricSample {
  @ApiProperty({ pattern: '^[a-zA-Z_][a-zA-Z0-9_.:]{0,199}$', example: 'docker.container.cpu.usage' })
  name!: string;
  @ApiProperty({ example: 12.5 }) value!: number;
  @ApiPropertyOptional({ maxLength: 32, example: '%' }) unit?: string;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { name: 'web', image: 'nginx:1.27' },
  })
  tags?: Record<string, string>;
  @ApiPropertyOptional({ ...MS, description: "ms since the epoch; defaults to the batch's collectedAt" })
  ts?: number;
}

/** `POST /api/v1/intake/metrics` body (as published on `agents.<env>.<agentId>.metrics`). */
export class MetricsBatchBody implements MetricsBatch {
  @ApiProperty(AGENT_ID) agentId!: string;
  @ApiProperty({
    minimum: 0,
    example: 1042,
    description: 'Per agent, increasing; a resent seq is stored once',
  })
  seq!: number;
  @ApiProperty({ ...MS, example: 1767607195000 }) collectedAt!: number;
  @ApiProperty({ type: [MetricSampleBody], maxItems: 5000 }) samples!: MetricSampleBody[];
}

/**
 * `POST /intake/config`: a fetch answers `version` and `settings` (AgentConfigDocument), an ack
 * `recorded` — what provisioning answers on `agents.<env>.<agentId>.config`.
 */
export class AgentConfigReplyView {
  @ApiPropertyOptional({ example: 7, description: 'fetch: the version to run (0: nothing configured)' })
  version?: number;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { logLevel: 'debug', heartbeatIntervalSeconds: 30 },
    description: 'fetch: AgentConfigSettings (docs/protocol.md, Remote configuration)',
  })
  settings?: Record<string, unknown>;
  @ApiPropertyOptional({ enum: [true], example: true, description: 'ack: the report is recorded' })
  recorded?: true;
}

export class AgentConfigRequestBody {
  @ApiProperty({ enum: ['fetch', 'ack'], example: 'fetch' }) type!: 'fetch' | 'ack';
  @ApiPropertyOptional({ example: 7, description: 'ack: the version applied or rejected' }) version?: number;
  @ApiPropertyOptional({ example: true, description: 'ack: false when the agent kept its last good config' })
  applied?: boolean;
  @ApiPropertyOptional({ example: 'unknown collector gpu', description: 'ack with applied false: why' })
  error?: string;
}

export class HeartbeatAccepted {
  @ApiProperty({ enum: [true], example: true }) accepted!: true;
}

export class MetricsAccepted {
  @ApiProperty({ enum: [true], example: true }) accepted!: true;
  @ApiProperty({ example: false, description: 'This seq of this agent was already stored' })
  duplicate!: boolean;
}
