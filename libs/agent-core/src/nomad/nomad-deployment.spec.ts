import { execFileSync } from 'node:child_process';
import { parse } from 'shell-quote';
import { ValidationFailedError } from '@app/contracts';
import { agentTypes } from '../builtin-agent-types';

/** Values an attacker (or an unlucky user) could put in a token, URL, environment or image name. */
const HOSTILE = [
  'x"; rm -rf / #',
  '$(id)',
  '`id`',
  "it's",
  "'",
  'line1\nline2',
  '${HOME}',
  '{{ env "X" }}',
  '‘curly’',
  '',
];

/** Runs the command with `nomad` replaced by a function that prints its argv and its stdin. */
function run(command: string): { argv: string[]; stdin: string } {
  const out = execFileSync(
    'sh',
    ['-c', `nomad() { for a in "$@"; do printf '%s\\0' "$a"; done; printf '\\1'; cat; }\n${command}`],
    { encoding: 'utf8' },
  );
  const [argv, stdin] = out.split('\u0001');
  return { argv: argv.split('\0').slice(0, -1), stdin };
}

const input = (value: string, config: Record<string, unknown> = {}) => ({
  platformUrl: `https://rca.example.com/${value}`,
  natsUrl: `nats://nats.example.com:4222/${value}`,
  enrollmentToken: `rca_et_${value}`,
  environment: `prod-${value}`,
  config,
  agentImage: `ghcr.io/acme/rca-agent:${value || '1.0'}`,
});

describe('nomad deployment', () => {
  it.each(HOSTILE)('delivers %j intact inside the JSON job read by nomad job run -json -', (value) => {
    const { commands } = agentTypes.buildDeployment('nomad', input(value, { datacenters: 'dc1,dc2' }));
    const { argv, stdin } = run(commands[0].command);
    expect(argv).toEqual(['job', 'run', '-json', '-']);
    expect(parse(commands[0].command).slice(0, 3)).toEqual(['printf', '%s\\n', expect.any(String)]);
    const job = JSON.parse(stdin).Job;
    const task = job.TaskGroups[0].Tasks[0];
    expect({ type: job.Type, id: job.ID, datacenters: job.Datacenters, image: task.Config.image }).toEqual({
      type: 'system',
      id: 'rca-agent',
      datacenters: ['dc1', 'dc2'],
      image: input(value).agentImage,
    });
    expect(task.Env).toMatchObject({
      RCA_TOKEN: `rca_et_${value}`,
      RCA_NATS_URL: input(value).natsUrl,
      RCA_PLATFORM_URL: input(value).platformUrl,
      RCA_AGENT_TYPE: 'nomad',
      RCA_NOMAD_NODE_ID: '${node.unique.id}',
      RCA_NOMAD_TOKEN_FILE: '/secrets/nomad-token',
    });
    // The ACL token is never in the job: only the template reading it from the job's own variable.
    expect(task.Templates[0].EmbeddedTmpl).toBe(
      '{{ with nomadVar "nomad/jobs/rca-agent" }}{{ .token }}{{ end }}',
    );
  });

  it.each([
    ['job_name', 'rca agent'],
    ['job_name', 'x"}'],
    ['nomad_namespace', '$(id)'],
    ['datacenters', 'dc1;rm'],
    ['nomad_addr', 'http://nomad:4646/v1?x'],
  ])('refuses %s %j before any command is built', (field, value) => {
    let error: unknown;
    try {
      agentTypes.buildDeployment('nomad', input('v', { [field]: value }));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationFailedError);
    expect((error as ValidationFailedError).errors?.map((e) => e.field)).toEqual([`config.${field}`]);
  });
});
