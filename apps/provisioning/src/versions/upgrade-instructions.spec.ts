import { parse } from 'shell-quote';
import { compareVersions, upgradeInstructions } from './upgrade-instructions';

const input = {
  platformUrl: 'https://rca.example.com/',
  natsUrl: 'tls://nats.example.com:4222',
  agentImage: 'registry.example.com:5000/rca/agent:0.3.0',
};

describe('upgrade instructions', () => {
  it('the server agent is upgraded in place by re-running its installer against this platform', () => {
    const upgrade = upgradeInstructions('server', input);
    expect(upgrade.inPlace).toBe(true);
    expect(parse(upgrade.command, { RCA_TOKEN: 'rca_et_x' })).toEqual([
      'curl',
      '-fsSL',
      'https://rca.example.com/install.sh',
      { op: '|' },
      'sudo',
      'sh',
      '-s',
      '--',
      '--token',
      'rca_et_x',
      '--nats-url',
      'tls://nats.example.com:4222',
      '--platform-url',
      'https://rca.example.com',
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
