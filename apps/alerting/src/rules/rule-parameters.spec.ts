import { checkRuleParameters, RuleParameters } from './rule-parameters';

const base: RuleParameters = {
  kind: 'agent_offline',
  label: null,
  offline_seconds: null,
  threshold: null,
  window_seconds: null,
};

describe('alert rule parameters', () => {
  it('an offline rule needs offline_seconds and refuses rate parameters', () => {
    expect(checkRuleParameters({ ...base, threshold: 3 })).toEqual([
      { field: 'offline_seconds', reason: 'offline_seconds is required for agent_offline rules' },
      { field: 'threshold', reason: 'threshold does not apply to agent_offline rules' },
    ]);
  });

  it('an enrollment-failure rule needs a threshold and a window and cannot be scoped by label', () => {
    const fields = checkRuleParameters({ ...base, kind: 'enrollment_failures', label: 'a=b' }).map(
      (e) => e.field,
    );
    expect(fields).toEqual(['threshold', 'window_seconds', 'label']);
  });

  it('a revoked rule takes no parameters', () => {
    expect(checkRuleParameters({ ...base, kind: 'agent_revoked' })).toEqual([]);
    expect(checkRuleParameters({ ...base, kind: 'agent_revoked', offline_seconds: 5 })).toHaveLength(1);
  });
});
