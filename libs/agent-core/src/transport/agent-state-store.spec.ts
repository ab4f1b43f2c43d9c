import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentState, AgentStateStore } from './agent-state-store';

const state: AgentState = {
  agentId: 'agt_1',
  environment: 'prod-1',
  organizationId: 'org_1',
  jwt: 'eyJ.user.jwt',
  jwtExpiresAt: '2030-01-01T00:00:00.000Z',
};

describe(AgentStateStore.name, () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rca-state-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('returns null before the agent ever enrolled', () => {
    expect(new AgentStateStore(join(dir, 'nested')).load()).toBeNull();
  });

  it('saves and loads the state, readable by the owner only, leaving no temp file behind', () => {
    const store = new AgentStateStore(join(dir, 'nested'));
    store.save(state);
    store.save({ ...state, seqCeiling: 1000 });
    expect(store.load()).toEqual({ ...state, seqCeiling: 1000 });
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'nested'))).toEqual(['state.json']);
  });

  it('refuses an incomplete state file with a message saying how to recover', () => {
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ agentId: 'agt_1' }));
    expect(() => new AgentStateStore(dir).load()).toThrow(/incomplete; delete it to enroll again/);
  });

  it('treats a state file from before agent keys (a shared-secret credential) as not enrolled', () => {
    const { jwt: _jwt, jwtExpiresAt: _expiry, ...old } = state;
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ ...old, credential: 'rca_ac_x' }));
    expect(new AgentStateStore(dir).load()).toBeNull();
  });
});
