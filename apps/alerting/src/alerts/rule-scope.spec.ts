import { matchesScope, needsAgentRecord } from './rule-scope';

const rule = (scope: { environment?: string; agent_type?: string; label?: string }) => ({
  environment: scope.environment ?? null,
  agent_type: scope.agent_type ?? null,
  label: scope.label ?? null,
});

describe('alert rule scope', () => {
  it('an unscoped rule matches every agent', () => {
    expect(matchesScope(rule({}), { environment: 'prod-1' })).toBe(true);
  });

  it('an environment scope matches only that environment', () => {
    expect(matchesScope(rule({ environment: 'prod-1' }), { environment: 'prod-1' })).toBe(true);
    expect(matchesScope(rule({ environment: 'prod-1' }), { environment: 'staging' })).toBe(false);
  });

  it('a type scope never matches an agent whose type is unknown', () => {
    const docker = rule({ agent_type: 'docker' });
    expect(matchesScope(docker, { environment: 'prod-1', agentType: 'docker' })).toBe(true);
    expect(matchesScope(docker, { environment: 'prod-1', agentType: 'server' })).toBe(false);
    expect(matchesScope(docker, { environment: 'prod-1' })).toBe(false);
  });

  it('a label scope compares the whole value, and an empty value only matches an empty label', () => {
    const team = rule({ label: 'team=payments' });
    expect(matchesScope(team, { environment: 'x', labels: { team: 'payments' } })).toBe(true);
    expect(matchesScope(team, { environment: 'x', labels: { team: 'payments-eu' } })).toBe(false);
    expect(matchesScope(rule({ label: 'canary=' }), { environment: 'x', labels: { canary: '' } })).toBe(true);
    expect(matchesScope(rule({ label: 'canary=' }), { environment: 'x', labels: {} })).toBe(false);
  });

  it('only type and label scopes need the agent record from the registry', () => {
    expect(needsAgentRecord(rule({ environment: 'prod-1' }))).toBe(false);
    expect(needsAgentRecord(rule({ agent_type: 'docker' }))).toBe(true);
    expect(needsAgentRecord(rule({ label: 'a=b' }))).toBe(true);
  });
});
