import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  AgentHealthData,
  AlertRuleKind,
  EnrollmentFailedData,
  EventEnvelope,
  EventKinds,
} from '@app/contracts';
import { AgentDirectory } from '../agents/agent-directory';
import { Clock } from '@app/clock';
import { AlertRow, AlertRuleRow } from '../database';
import { RulesRepository } from '../rules/rules.repository';
import { Transactions } from '../transactions';
import { AlertLifecycle } from './alert-lifecycle';
import { AlertsRepository } from './alerts.repository';
import { matchesScope, needsAgentRecord, ScopeFacts } from './rule-scope';

/** An agent event the consumer has checked: it names its agent and a parseable instant. */
export interface AgentEvent extends EventEnvelope {
  agentId: string;
}

/**
 * Turns one agent event into alert state: opens pending/firing alerts, cancels or resolves
 * them. Everything an event changes is written in one transaction, so the consumer can ack
 * it afterwards and a redelivery changes nothing (alerts are unique per rule and event).
 * Offline/online are compared by event time, not arrival order, so a late offline event
 * for an agent that is already back opens nothing.
 */
@Injectable()
export class AlertEvaluator {
  constructor(
    private readonly rules: RulesRepository,
    private readonly alerts: AlertsRepository,
    private readonly lifecycle: AlertLifecycle,
    private readonly directory: AgentDirectory,
    private readonly transactions: Transactions,
    private readonly clock: Clock,
  ) {}

  async handle(event: AgentEvent): Promise<void> {
    switch (event.kind) {
      case EventKinds.agentOffline:
        return this.onOffline(event);
      case EventKinds.agentOnline:
        return this.onOnline(event);
      case EventKinds.agentRevoked:
        return this.onRevoked(event);
      case EventKinds.agentDegraded:
        return this.onHealthEvent(
          event,
          'agent_degraded',
          `agent ${event.agentId} degraded: ${reasonsOf(event)}`,
        );
      case EventKinds.agentStopped:
        return this.onHealthEvent(
          event,
          'agent_stopped',
          `agent ${event.agentId} stopped (clean stop announced)`,
          ['agent_degraded'],
        );
      case EventKinds.agentRecovered:
        return this.resolveOpen(event, ['agent_degraded']);
      default:
        // agent.registered and the like trigger no rule.
        return;
    }
  }

  /** `agent.enrollment_failed` has no agent yet: scoped by environment and the type it tried to enroll as. */
  async handleEnrollmentFailure(event: EventEnvelope<unknown>): Promise<void> {
    const at = Date.parse(event.occurredAt);
    const data = (event.data ?? {}) as Partial<EnrollmentFailedData>;
    const rules = await this.matchingRules(event.organizationId, ['enrollment_failures'], {
      environment: event.environment ?? null,
      agentType: typeof data.agentType === 'string' ? data.agentType : null,
    });
    if (rules.length === 0) return;
    await this.transactions.run(async (trx) => {
      const alerts = this.alerts.in(trx);
      for (const rule of rules) {
        const windowMs = (rule.window_seconds ?? 0) * 1000;
        const threshold = rule.threshold ?? 1;
        await alerts.recordHit(rule.id, event.id, at);
        const count = await alerts.countHits(rule.id, at - windowMs, at);
        if (count < threshold || (await alerts.findOpen(event.organizationId, rule.id, null))) continue;
        const summary = `${count} failed enrollments within ${rule.window_seconds}s (threshold ${threshold})`;
        const alert = this.newAlert(rule, event, null, summary, at, 'firing');
        if (await alerts.insertOnce(alert)) await this.lifecycle.notify(trx, alert, rule, 'firing');
      }
    });
  }

  private async onOffline(event: AgentEvent): Promise<void> {
    const at = Date.parse(event.occurredAt);
    const rules = await this.matchingRulesForAgent(event, ['agent_offline']);
    await this.transactions.run(async (trx) => {
      const alerts = this.alerts.in(trx);
      const presence = await alerts.recordPresence(event.organizationId, event.agentId, { offlineAt: at });
      if (presence.last_online_at > at) return; // already back online: this outage is over
      for (const rule of rules) {
        if (await alerts.findOpen(event.organizationId, rule.id, event.agentId)) continue;
        const seconds = rule.offline_seconds ?? 0;
        const summary = `agent ${event.agentId} offline for more than ${seconds}s`;
        // Pending until the delay runs out; the scheduler fires it unless the agent returns first.
        await alerts.insertOnce(
          this.newAlert(rule, event, event.agentId, summary, at, 'pending', at + seconds * 1000),
        );
      }
    });
  }

  private async onOnline(event: AgentEvent): Promise<void> {
    const at = Date.parse(event.occurredAt);
    await this.transactions.run(async (trx) => {
      const alerts = this.alerts.in(trx);
      await alerts.recordPresence(event.organizationId, event.agentId, { onlineAt: at });
      for (const alert of await alerts.openForAgent(
        event.organizationId,
        event.agentId,
        'agent_offline',
        at,
      )) {
        // Back within the delay: a flap, nobody is told. Already fired: tell them it is resolved.
        if (alert.state === 'pending' && (await this.lifecycle.cancel(trx, alert, at))) continue;
        await this.lifecycle.resolve(trx, alert, at);
      }
      // Running again, and well (an agent back unwell is announced degraded right after).
      for (const kind of ['agent_stopped', 'agent_degraded'] as const)
        for (const alert of await alerts.openForAgent(event.organizationId, event.agentId, kind, at))
          await this.lifecycle.resolve(trx, alert, at);
    });
  }

  /**
   * `agent.degraded` / `agent.stopped`: fires the matching rules at once (one alert per rule and
   * agent while open); first resolves the open alerts of `resolves` (a stopped agent is no longer degraded).
   */
  private async onHealthEvent(
    event: AgentEvent,
    kind: 'agent_degraded' | 'agent_stopped',
    summary: string,
    resolves: AlertRuleKind[] = [],
  ): Promise<void> {
    const at = Date.parse(event.occurredAt);
    const rules = await this.matchingRulesForAgent(event, [kind]);
    await this.transactions.run(async (trx) => {
      const alerts = this.alerts.in(trx);
      for (const resolved of resolves)
        for (const alert of await alerts.openForAgent(event.organizationId, event.agentId, resolved, at))
          await this.lifecycle.resolve(trx, alert, at);
      for (const rule of rules) {
        if (await alerts.findOpen(event.organizationId, rule.id, event.agentId)) continue;
        const alert = this.newAlert(rule, event, event.agentId, summary, at, 'firing');
        if (await alerts.insertOnce(alert)) await this.lifecycle.notify(trx, alert, rule, 'firing');
      }
    });
  }

  /** The condition cleared: open alerts of these kinds for the agent are resolved (and notified). */
  private async resolveOpen(event: AgentEvent, kinds: AlertRuleKind[]): Promise<void> {
    const at = Date.parse(event.occurredAt);
    await this.transactions.run(async (trx) => {
      const alerts = this.alerts.in(trx);
      for (const kind of kinds)
        for (const alert of await alerts.openForAgent(event.organizationId, event.agentId, kind, at))
          await this.lifecycle.resolve(trx, alert, at);
    });
  }

  private async onRevoked(event: AgentEvent): Promise<void> {
    const at = Date.parse(event.occurredAt);
    const rules = await this.matchingRulesForAgent(event, ['agent_revoked']);
    await this.transactions.run(async (trx) => {
      const alerts = this.alerts.in(trx);
      // A revoked agent stops heartbeating on purpose: its pending offline alerts are moot.
      for (const alert of await alerts.openForAgent(
        event.organizationId,
        event.agentId,
        'agent_offline',
        at,
      )) {
        if (alert.state === 'pending') await this.lifecycle.cancel(trx, alert, at);
      }
      for (const rule of rules) {
        const alert = this.newAlert(
          rule,
          event,
          event.agentId,
          `agent ${event.agentId} was revoked`,
          at,
          'firing',
        );
        if (await alerts.insertOnce(alert)) await this.lifecycle.notify(trx, alert, rule, 'firing');
      }
    });
  }

  private matchingRulesForAgent(event: AgentEvent, kinds: AlertRuleKind[]): Promise<AlertRuleRow[]> {
    return this.matchingRules(
      event.organizationId,
      kinds,
      { environment: event.environment ?? null },
      event.agentId,
    );
  }

  /** Enabled rules of these kinds whose scope matches; the agent's record is fetched only if a rule needs it. */
  private async matchingRules(
    organizationId: string,
    kinds: AlertRuleKind[],
    facts: ScopeFacts,
    agentId?: string,
  ): Promise<AlertRuleRow[]> {
    const candidates = (await this.rules.listEnabled(organizationId, kinds)).filter((rule) =>
      matchesScope({ ...rule, agent_type: null, label: null }, facts),
    );
    if (!agentId || !candidates.some(needsAgentRecord))
      return candidates.filter((r) => matchesScope(r, facts));
    const agent = await this.directory.describe(organizationId, agentId);
    const known: ScopeFacts = { ...facts, agentType: agent?.type ?? null, labels: agent?.labels ?? {} };
    return candidates.filter((rule) => matchesScope(rule, known));
  }

  private newAlert(
    rule: AlertRuleRow,
    event: Pick<EventEnvelope<unknown>, 'id' | 'organizationId' | 'environment'>,
    agentId: string | null,
    summary: string,
    openedAt: number,
    state: 'pending' | 'firing',
    dueAt = openedAt,
  ): AlertRow {
    return {
      id: randomUUID(),
      organization_id: event.organizationId,
      rule_id: rule.id,
      rule_name: rule.name,
      kind: rule.kind,
      state,
      agent_id: agentId,
      environment: event.environment ?? null,
      summary,
      event_id: event.id,
      opened_at: openedAt,
      due_at: dueAt,
      fired_at: state === 'firing' ? this.clock.now() : null,
      resolved_at: null,
      acknowledged_at: null,
      acknowledged_by: null,
    };
  }
}

/** `agent.degraded`'s reasons in one line for the alert summary. */
function reasonsOf(event: AgentEvent): string {
  const reasons = (event.data as Partial<AgentHealthData>).reasons;
  if (!Array.isArray(reasons) || !reasons.length) return 'no reason given';
  return reasons.map((r) => (typeof r?.message === 'string' ? r.message : String(r?.kind))).join('; ');
}
