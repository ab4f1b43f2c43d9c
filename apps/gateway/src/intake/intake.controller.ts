import { Controller, Get, Header, HttpCode, HttpStatus, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import {
  AGENT_SIGNATURE_HEADER,
  EnrollRequest,
  Heartbeat,
  MetricsBatch,
  NotFoundError,
  RenewAgentJwtRequest,
} from '@app/contracts';
import { ValidBody } from '../http/validation.pipe';
import { PlatformCa } from './platform-ca.provider';
import { IntakeAuth, IntakeCaller, IntakeCallerParam } from './intake-auth.guard';
import { IntakeService } from './intake.service';

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
  @ApiBody({
    description:
      'EnrollRequest: { agentType, agentVersion, host: { hostname, hostId, os }, labels?, identity: { publicKey, proof, handover? } }',
  })
  @ApiOkResponse({
    description: 'EnrollReply: { agentId, jwt, jwtExpiresAt, environment, heartbeatIntervalSeconds, … }',
  })
  enroll(@IntakeCallerParam() caller: IntakeCaller, @ValidBody() body: EnrollRequest) {
    return this.intake.enroll(caller.token as string, body);
  }

  @Post('renew')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: "A fresh NATS user JWT for the agent's key, proven by a signature (no other credential)",
  })
  @ApiBody({ description: 'RenewAgentJwtRequest: { agentId, publicKey, signedAt, signature }' })
  @ApiOkResponse({ description: 'AgentJwt: { jwt, expiresAt }' })
  renew(@ValidBody() body: RenewAgentJwtRequest) {
    return this.intake.renew(body);
  }

  @Get('ca.pem')
  @Header('content-type', 'application/x-pem-file')
  @ApiOperation({
    summary: 'The platform CA certificate; agents check it against the pin in their install command',
  })
  @ApiOkResponse({ description: 'PEM' })
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
  @ApiBody({ description: 'Heartbeat, as published on agents.<env>.<agentId>.heartbeat' })
  @ApiAcceptedResponse({ description: '{ accepted: true }' })
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
  @ApiBody({ description: 'MetricsBatch, as published on agents.<env>.<agentId>.metrics' })
  @ApiAcceptedResponse({ description: '{ accepted: true, duplicate }' })
  async metrics(@IntakeCallerParam() caller: IntakeCaller, @ValidBody() body: MetricsBatch) {
    const { duplicate } = await this.intake.metrics(caller.agent!, body);
    return { accepted: true, duplicate };
  }
}
