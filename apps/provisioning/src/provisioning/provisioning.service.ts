import { Injectable } from '@nestjs/common';
import { agentTypes, cleartextWarnings } from '@app/agent-core';
import { AgentTypeInfo, ProvisionRequest, ProvisionResult, ValidationFailedError } from '@app/contracts';
import { Clock } from '@app/clock';
import { ProvisioningConfig } from '../config';
import { AuditActions, AuditService } from '../audit/audit.service';
import { ProvisioningMetrics } from '../health/provisioning-metrics';
import { EnvironmentsService } from '../environments/environments.service';
import { TokenServiceClient } from '../tokens/token-service.client';

/**
 * "Add an agent": validates the type and its config, makes sure the environment exists, issues an
 * enrollment token for it and returns the command(s) to paste. Nothing is written before the
 * input is known to be good.
 */
@Injectable()
export class ProvisioningService {
  constructor(
    private readonly environments: EnvironmentsService,
    private readonly tokens: TokenServiceClient,
    private readonly audit: AuditService,
    private readonly config: ProvisioningConfig,
    private readonly clock: Clock,
    private readonly metrics: ProvisioningMetrics,
  ) {}

  types(): AgentTypeInfo[] {
    return agentTypes.types();
  }

  async provision(request: ProvisionRequest): Promise<ProvisionResult> {
    const config = agentTypes.validateConfig(request.agentType, request.config ?? {});
    const expiresAt = this.expiry(request.expiresAt);
    const actor = request.actor ?? 'system';
    const environment = await this.environments.ensure(
      request.organizationId,
      request.environmentName,
      actor,
    );
    const token = await this.tokens.issue({
      kind: 'enrollment',
      organizationId: request.organizationId,
      environment: environment.name,
      name: `${request.agentType} agents in ${environment.name}`,
      expiresAt: expiresAt ?? undefined,
      maxUses: request.maxUses,
      actor,
    });
    const deployment = agentTypes.buildDeployment(request.agentType, {
      platformUrl: this.config.PUBLIC_URL.replace(/\/+$/, ''),
      natsUrl: this.config.agentNatsUrl,
      enrollmentToken: token.secret,
      environment: environment.name,
      config,
      agentImage: this.config.AGENT_IMAGE,
      caPin: this.config.platformCaPin,
      artifacts: this.config.agentArtifacts,
    });
    // The token's own audit entry (token.issued, with this actor) comes from its event: TokenAuditConsumer.
    await this.audit.record(request.organizationId, {
      actor,
      action: AuditActions.agentProvisioned,
      targetType: 'environment',
      targetId: environment.name,
      details: { agentType: request.agentType, tokenId: token.id, config },
    });
    this.metrics.provisions.inc({ agent_type: request.agentType });
    return {
      agentType: request.agentType,
      environment: environment.name,
      command: deployment.commands[0].command,
      commands: deployment.commands,
      instructions: deployment.instructions,
      warnings: [
        ...(deployment.warnings ?? []),
        ...cleartextWarnings(this.config.agentNatsUrl, this.config.PUBLIC_URL),
      ],
      enrollmentToken: token.secret,
      tokenId: token.id,
      expiresAt: token.expiresAt,
      config,
    };
  }

  /** The request's expiry, else ENROLLMENT_TOKEN_TTL_HOURS from now (0 = none); never in the past. */
  private expiry(requested: string | undefined): string | null {
    const now = this.clock.now();
    if (requested !== undefined) {
      if (Date.parse(requested) <= now) {
        throw new ValidationFailedError([{ field: 'expires_at', reason: 'must be in the future' }]);
      }
      return new Date(Date.parse(requested)).toISOString();
    }
    const hours = this.config.ENROLLMENT_TOKEN_TTL_HOURS;
    return hours > 0 ? new Date(now + hours * 3_600_000).toISOString() : null;
  }
}
