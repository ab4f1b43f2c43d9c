import { parse } from 'shell-quote';
import { agentTypes } from '../builtin-agent-types';
import { DeploymentInput } from '../agent-type';
import { cleartextWarnings, loopbackUrls } from './reachability';

const input = (
  natsUrl: string,
  platformUrl: string,
  config: Record<string, unknown> = {},
): DeploymentInput<unknown> => ({
  platformUrl,
  natsUrl,
  enrollmentToken: 'rca_et_x',
  environment: 'prod-1',
  config,
  agentImage: 'rca/agent:1.0',
});
const LOCAL = input('tls://127.0.0.1:4222', 'http://localhost:3000');
const PUBLIC = input('tls://nats.example.com:4222', 'https://rca.example.com:3443');
const BUILT = {
  version: '0.1.0',
  bundle: { file: 'rca-agent-bundle.tgz', size: 1, sha256: 'a'.repeat(64) },
  binaries: {},
};

describe('commands reachable from where they run', () => {
  it('warns when agents on other hosts would enrol and report without TLS', () => {
    expect(cleartextWarnings('tls://nats.example.com:4222', 'https://rca.example.com:3443')).toEqual([]);
    const [warning] = cleartextWarnings('nats://nats.example.com:4222', 'http://rca.example.com:3000');
    expect(warning).toMatch(
      /^The platform advertises http:\/\/rca\.example\.com:3000, nats:\/\/nats\.example\.com:4222 without TLS/,
    );
    expect(warning).toMatch(/Set PUBLIC_URL to the HTTPS listener/);
    // Loopback URLs have their own warning; TLS everywhere has none.
    expect(cleartextWarnings('nats://127.0.0.1:4222', 'http://localhost:3000')).toEqual([]);
    expect(
      cleartextWarnings('tls://a.example.com:4222,nats://b.example.com:4222', 'https://rca.example.com'),
    ).toHaveLength(1);
  });

  it('recognises loopback hosts in URLs and NATS server lists', () => {
    expect(loopbackUrls('tls://a.example.com:4222,tls://127.0.0.1:4222', 'http://[::1]:3000')).toEqual([
      'tls://127.0.0.1:4222',
      'http://[::1]:3000',
    ]);
    expect(loopbackUrls('nats://localhost:4222', 'https://0.0.0.0')).toHaveLength(2);
    expect(loopbackUrls('tls://10.0.0.5:4222', 'https://rca.example.com')).toEqual([]);
  });

  it('runs the Docker agent on the host network when the platform URLs are loopback, and says so', () => {
    const local = agentTypes.buildDeployment('docker', LOCAL);
    expect(parse(local.commands[0].command)).toEqual(expect.arrayContaining(['--network', 'host']));
    expect(local.warnings?.join(' ')).toMatch(/--network host.*set PUBLIC_URL and AGENT_NATS_URL/);

    const remote = agentTypes.buildDeployment('docker', PUBLIC);
    expect(remote.commands[0].command).not.toContain('--network');
    expect(remote.warnings).toEqual([]);
  });

  it('warns that a pod cannot reach loopback URLs: set PUBLIC_URL and AGENT_NATS_URL', () => {
    const local = agentTypes.buildDeployment('kubernetes', LOCAL);
    expect(local.warnings).toHaveLength(1);
    expect(local.warnings![0]).toContain('Set PUBLIC_URL and AGENT_NATS_URL');
    expect(agentTypes.buildDeployment('kubernetes', PUBLIC).warnings).toEqual([]);
  });

  it('tells a server install with loopback URLs that it works on this host only', () => {
    expect(agentTypes.buildDeployment('server', LOCAL).warnings![0]).toContain("platform's own host");
    expect(agentTypes.buildDeployment('server', { ...PUBLIC, artifacts: BUILT }).warnings).toEqual([]);
  });

  it('warns that a server install cannot work when the platform has no agent build to pin', () => {
    expect(agentTypes.buildDeployment('server', PUBLIC).warnings).toEqual([
      expect.stringContaining('cannot pin the SHA-256 of the agent'),
    ]);
  });
});
