import { Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { EnrollRequest, Heartbeat, MetricsBatch } from '@app/contracts';
import { ValidBody } from '../http/validation.pipe';
import { IntakeAuth, IntakeCaller, IntakeToken } from './intake-auth.guard';
import { IntakeService } from './intake.service';

/**
 * Agent-facing HTTP, for agents that cannot reach NATS. Bodies and replies are the agent wire
 * messages themselves (camelCase, as on NATS), so an agent uses one set of types for both paths.
 */
@ApiTags('intake')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'Missing, malformed, unknown, expired or revoked token' })
@Controller('api/v1/intake')
export class IntakeController {
  constructor(private readonly intake: IntakeService) {}

  @Post('enroll')
  @HttpCode(HttpStatus.OK)
  @IntakeAuth('enrollment')
  @ApiOperation({ summary: 'Enroll with an enrollment token (rca_et_…): returns agent id and credential' })
  @ApiBody({
    description: 'EnrollRequest: { agentType, agentVersion, host: { hostname, hostId, os }, labels? }',
  })
  @ApiOkResponse({
    description: 'EnrollReply: { agentId, credential, environment, heartbeatIntervalSeconds, … }',
  })
  enroll(@IntakeToken() caller: IntakeCaller, @ValidBody() body: EnrollRequest) {
    return this.intake.enroll(caller.token, body);
  }

  @Post('heartbeat')
  @HttpCode(HttpStatus.ACCEPTED)
  @IntakeAuth('agent')
  @ApiOperation({ summary: 'A heartbeat, with the agent credential (rca_ac_…)' })
  @ApiBody({ description: 'Heartbeat, as published on agents.<env>.<agentId>.heartbeat' })
  @ApiAcceptedResponse({ description: '{ accepted: true }' })
  async heartbeat(@IntakeToken() caller: IntakeCaller, @ValidBody() body: Heartbeat) {
    await this.intake.heartbeat(caller, body);
    return { accepted: true };
  }

  @Post('metrics')
  @HttpCode(HttpStatus.ACCEPTED)
  @IntakeAuth('agent')
  @ApiOperation({ summary: 'A metrics batch, with the agent credential; resending the same seq is harmless' })
  @ApiBody({ description: 'MetricsBatch, as published on agents.<env>.<agentId>.metrics' })
  @ApiAcceptedResponse({ description: '{ accepted: true, duplicate }' })
  async metrics(@IntakeToken() caller: IntakeCaller, @ValidBody() body: MetricsBatch) {
    const { duplicate } = await this.intake.metrics(caller, body);
    return { accepted: true, duplicate };
  }
}
