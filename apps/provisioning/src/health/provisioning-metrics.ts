import { Counter } from 'prom-client';
import { ServiceMetrics } from '@app/observability';

/** The service's Prometheus metrics, in a registry per instance (tests run several in one process). */
export class ProvisioningMetrics extends ServiceMetrics {
  readonly enrollments = new Counter({
    name: 'provisioning_enrollments_total',
    help: 'Enrollment requests by outcome: enrolled, reenrolled, or the refusal code',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly provisions = new Counter({
    name: 'provisioning_provisions_total',
    help: 'Enrollment tokens issued with deployment commands, by agent type',
    labelNames: ['agent_type'] as const,
    registers: [this.registry],
  });
  readonly revocations = new Counter({
    name: 'provisioning_agents_revoked_total',
    help: 'Agents revoked',
    registers: [this.registry],
  });
  readonly deletions = new Counter({
    name: 'provisioning_agents_deleted_total',
    help: "Revoked agents' records deleted, by reason: requested (the API) or inactive (the cleanup)",
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
}
