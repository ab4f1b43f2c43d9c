import { execFileSync } from 'node:child_process';
import { parse } from 'shell-quote';
import { compareVersions, upgradeInstructions } from './upgrade-instructions';

const input = {
  platformUrl: 'https://rca.example.com/',
  natsUrl: 'tls://nats.example.com:4222',
  agentImage: 'registry.example.com:5000/rca/agent:0.3.0',
};

describe('upgrade instructions', () => {
  it('the server agent is upgraded in place by re-running its pinned installer, the token piped from $RCA_TOKEN', () => {
    const artifacts = {
      version: '0.3.0',
      bundle: { file: 'rca-agent-bundle.tgz', size: 1, sha256: 'b'.repeat(64) },
      binaries: { 'linux-x64': { file: 'rca-agent-linux-x64', size: 1, sha256: 'c'.repeat(64) } },
    };
    const caPin = `sha256:${'a'.repeat(64)}`;
    const upgrade = upgradeInstructions('server', { ...input, caPin, artifacts });
    expect(upgrade.inPlace).toBe(true);
    // Run as sh would, with curl and sudo as functions: sudo prints its argv, then what it reads on stdin.
    const fns = `curl() { :; }\nsudo() { for a in "$@"; do printf '%s\\0' "$a"; done; printf 'stdin\\0'; cat; }`;
    const out = execFileSync('sh', ['-c', `${fns}\n${upgrade.command}`], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, RCA_TOKEN: 'rca_et_x' },
    }).split('\0');
    expect(out.slice(0, 1).concat(out.slice(2))).toEqual([
      'sh',
      '--token-file',
      '-',
      '--nats-url',
      'tls://nats.example.com:4222',
      '--platform-url',
      'https://rca.example.com',
      '--log-level',
      'info',
      '--ca-pin',
      caPin,
      '--bundle-sha256',
      'b'.repeat(64),
      '--binary-sha256',
      'c'.repeat(64),
      'stdin',
      'rca_et_x\n',
    ]);
  });

  it('a Docker agent is pulled and recreated; a Helm release is upgraded to the image tag of this build', () => {
    expect(upgradeInstructions('docker', input)).toMatchObject({
      inPlace: false,
      command: 'docker pull registry.example.com:5000/rca/agent:0.3.0 && docker rm -f rca-agent',
    });
    const helm = upgradeInstructions('kubernetes', input);
    expect(helm.inPlace).toBe(false);
    expect(parse(helm.command)).toEqual(
      expect.arrayContaining([
        'upgrade',
        '--reuse-values',
        'image.tag=0.3.0',
        'https://rca.example.com/charts',
      ]),
    );
  });

  it('compares versions by their numbers, not as text', () => {
    expect(compareVersions('0.9.1', '0.10.0')).toBe(-1);
    expect(compareVersions('1.0.0', '1.0')).toBe(0);
    expect(compareVersions('1.2.0-rc.1', '1.2.0')).toBe(-1);
    expect(compareVersions('2.0.0', '1.99.99')).toBe(1);
  });
});
