import { Controller, Get, Header, HttpCode, HttpStatus, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import {
  AGENT_SIGNATURE_HEADER,
  AgentConfigRequest,
  EnrollRequest,
  Heartbeat,
  MetricsBatch,
  NotFoundError,
  RenewAgentJwtRequest,
} from '@app/contracts';
import { ApiContentResponse, ApiJsonBody } from '../http/openapi.decorators';
import { ValidBody } from '../http/validation.pipe';
import {
  AgentConfigReplyView,
  AgentConfigRequestBody,
  AgentJwtView,
  EnrollBody,
  EnrollReplyView,
  HeartbeatAccepted,
  HeartbeatBody,
  MetricsAccepted,
  MetricsBatchBody,
  RenewBody,
} from './intake.dto';
import { PlatformCa } from './platform-ca.provider';
import { IntakeAuth, IntakeCaller, IntakeCallerParam } from './intake-auth.guard';
import { IntakeService } from './intake.service';

const AGENT_ID = 'ag_fH2E2Vwna1pJYKU3';
const PUBLIC_KEY = 'UAXPLLC3N4AWOCEZ2WCOCTAAKAEOWO3GHF4EQGEDGYBU4JOCVKSXGYGX';
const SIGNATURE = 'xT5ceTc0YWP8PEKpxiE7RFoRbAxUodJUM9g7nNMtehseRM9BRIPb9HFY31_rSrOYbcOITb_vScFx6xOWjTtlDw';
const HOST = { hostname: 'web-1', hostId: '4c4c4544-0042-3510-8052-b4c04f4d4c31', os: 'linux', arch: 'x64' };

const SIGNATURE_DOC = {
  name: AGENT_SIGNATURE_HEADER,
  description:
    'agent=<agent id>,t=<ms since epoch>,sig=<base64url Ed25519 signature of the request statement>',
  required: true,
};

/**
 * Agent-facing HTTP: enrollment, JWT renewal, the platform CA, and heartbeats and metrics for agents
 * that cannot reach NATS. Bodies and replies are the agent wire messages themselves (camelCase, as on
 * NATS), so an agent uses one set of types for both paths.
 */
@ApiTags('intake')
@ApiUnauthorizedResponse({ description: 'Missing or malformed token or signature, unknown or revoked agent' })
@Controller('api/v1/intake')
export class IntakeController {
  constructor(
    private readonly intake: IntakeService,
    private readonly ca: PlatformCa,
  ) {}

  @Post('enroll')
  @HttpCode(HttpStatus.OK)
  @ApiBearerAuth()
  @IntakeAuth('enrollment')
  @ApiOperation({
    summary: 'Enroll with an enrollment token (rca_et_…) and the public half of a key the agent generated',
  })
  @ApiJsonBody(EnrollBody, {
    agentType: 'docker',
    agentVersion: '0.1.0',
    host: HOST,
    labels: { team: 'payments' },
    identity: { publicKey: PUBLIC_KEY, proof: SIGNATURE },
  })
  @ApiOkResponse({ type: EnrollReplyView, description: "The agent's id and its first NATS credential" })
  @ApiBadRequestResponse({ description: 'A field is missing or invalid; `errors` names it' })
  enroll(@IntakeCallerParam() caller: IntakeCaller, @ValidBody() body: EnrollRequest) {
    return this.intake.enroll(caller.token as string, body);
  }

  @Post('renew')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: "A fresh NATS user JWT for the agent's key, proven by a signature (no other credential)",
  })
  @ApiJsonBody(RenewBody, {
    agentId: AGENT_ID,
    publicKey: PUBLIC_KEY,
    signedAt: 1767607200000,
    signature: SIGNATURE,
  })
  @ApiOkResponse({ type: AgentJwtView, description: 'A fresh JWT for the key on record' })
  @ApiBadRequestResponse({ description: 'A field is missing or invalid; `errors` names it' })
  renew(@ValidBody() body: RenewAgentJwtRequest) {
    return this.intake.renew(body);
  }

  @Get('ca.pem')
  @Header('content-type', 'application/x-pem-file')
  @ApiOperation({
    summary: 'The platform CA certificate; agents check it against the pin in their install command',
  })
  @ApiContentResponse('application/x-pem-file', 'text', 'The CA certificate, PEM')
  @ApiNotFoundResponse({ description: 'This platform uses publicly trusted certificates' })
  caCertificate(): string {
    const pem = this.ca.certificate();
    if (!pem) throw new NotFoundError('platform CA (this platform uses publicly trusted certificates)');
    return pem;
  }

  @Post('heartbeat')
  @HttpCode(HttpStatus.ACCEPTED)
  @IntakeAuth('agent')
  @ApiHeader(SIGNATURE_DOC)
  @ApiOperation({ summary: "A heartbeat, signed with the agent's key" })
  @ApiJsonBody(
    HeartbeatBody,
    {
      agentId: AGENT_ID,
      sentAt: 1767607200000,
      agentType: 'docker',
      agentVersion: '0.1.0',
      uptimeSeconds: 86400,
      intervalSeconds: 30,
      state: 'running',
      host: HOST,
      lastCollection: { ok: true, at: 1767607195000, durationMs: 42, samples: 57, errors: [] },
      buffered: 0,
      dropped: 0,
    },
    { description: 'Heartbeat, as published on agents.<env>.<agentId>.heartbeat' },
  )
  @ApiAcceptedResponse({ type: HeartbeatAccepted, description: 'Published to ingestion' })
  @ApiForbiddenResponse({ description: '`agentId` is not the signing agent' })
  @ApiBadRequestResponse({ description: 'A field is missing or invalid; `errors` names it' })
  async heartbeat(@IntakeCallerParam() caller: IntakeCaller, @ValidBody() body: Heartbeat) {
    await this.intake.heartbeat(caller.agent!, body);
    return { accepted: true };
  }

  @Post('metrics')
  @HttpCode(HttpStatus.ACCEPTED)
  @IntakeAuth('agent')
  @ApiHeader(SIGNATURE_DOC)
  @ApiOperation({
    summary: "A metrics batch, signed with the agent's key; resending the same seq is harmless",
  })
  @ApiJsonBody(
    MetricsBatchBody,
    {
      agentId: AGENT_ID,
      seq: 1042,
      collectedAt: 1767607195000,
      samples: [
        {
          name: 'docker.container.cpu.usage',
          value: 12.5,
          unit: '%',
          tags: { name: 'web', image: 'nginx:1.27' },
        },
      ],
    },
    { description: 'MetricsBatch, as published on agents.<env>.<agentId>.metrics' },
  )
  @ApiAcceptedResponse({ type: MetricsAccepted, description: 'Stored in the AGENT_METRICS stream' })
  @ApiForbiddenResponse({ description: '`agentId` is not the signing agent' })
  @ApiBadRequestResponse({ description: 'A field is missing or invalid; `errors` names it' })
  async metrics(@IntakeCallerParam() caller: IntakeCaller, @ValidBody() body: MetricsBatch) {
    const { duplicate } = await this.intake.metrics(caller.agent!, body);
    return { accepted: true, duplicate };
  }

  @Post('config')
  @HttpCode(HttpStatus.OK)
  @IntakeAuth('agent')
  @ApiHeader(SIGNATURE_DOC)
  @ApiOperation({
    summary: "Fetch or acknowledge the agent's remote configuration, signed with its key",
    description:
      "Asked on the agent's own `agents.<env>.<agentId>.config` subject for it (docs/protocol.md).",
  })
  @ApiJsonBody(AgentConfigRequestBody, { type: 'fetch' }, { description: 'AgentConfigRequest' })
  @ApiOkResponse({ type: AgentConfigReplyView, description: 'The config (fetch) or `recorded` (ack)' })
  @ApiBadRequestResponse({ description: 'A field is missing or invalid; `errors` names it' })
  config(@IntakeCallerParam() caller: IntakeCaller, @ValidBody() body: AgentConfigRequest) {
    return this.intake.config(caller.agent!, body);
  }
}
