import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv, { AnySchema } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { ValidationFailedError } from '@app/contracts';
import { agentTypes } from '../builtin-agent-types';
import { CLOUD_RUN_FILE } from './cloud-run-deployment';

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

const input = (value: string, config: Record<string, unknown> = {}) => ({
  platformUrl: `https://rca.example.com/${value}`,
  natsUrl: `nats://nats.example.com:4222/${value}`,
  enrollmentToken: `rca_et_${value}`,
  environment: `prod-${value}`,
  config: { service: 'checkout', ...config },
  agentImage: `ghcr.io/acme/rca-agent:${value || '1.0'}`,
});

const command = (value: string, config?: Record<string, unknown>) =>
  agentTypes.buildDeployment('cloud-run', input(value, config)).commands[0].command;

/** The parts of a Knative Service the tests read. */
interface KnativeService {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    template: {
      metadata: { annotations: Record<string, string> };
      spec: {
        containers: Array<{
          name: string;
          image: string;
          ports?: Array<{ containerPort: number }>;
          env?: Array<{ name: string; value: string }>;
        }>;
      };
    };
  };
}

/**
 * The Knative Service schema (serving.knative.dev/v1, vendored from knative/serving's CRD; testdata/README.md
 * names the commit), made strict as `kubectl apply --validate=strict` is: an object with declared properties
 * and no x-kubernetes-preserve-unknown-fields accepts no other property, so a misspelt field fails here
 * instead of being dropped silently by the API server.
 */
function knativeServiceValidator() {
  const schema = JSON.parse(
    readFileSync(join(__dirname, 'testdata', 'knative-service-v1.schema.json'), 'utf8'),
  );
  const strict = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(strict);
    if (typeof node !== 'object' || node === null) return;
    const object = node as Record<string, unknown>;
    if (
      object.properties &&
      !object['x-kubernetes-preserve-unknown-fields'] &&
      !('additionalProperties' in object)
    )
      object.additionalProperties = false;
    Object.values(object).forEach(strict);
  };
  strict(schema);
  const ajv = new Ajv({ allErrors: true, strict: false });
  // The OpenAPI formats Kubernetes uses: int32/int64 bound integers; the rest is checked by the API server.
  ajv.addFormat('int32', {
    type: 'number',
    validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31,
  });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  return ajv.compile(schema as AnySchema);
}

/** Runs the command in `dir` with `gcloud` replaced by a function printing its argv: what gcloud would be given. */
function runWithoutGcloud(
  cmd: string,
  dir: string,
): { argv: string[]; text: string; service: KnativeService } {
  const out = execFileSync(
    'sh',
    ['-c', `gcloud() { for a in "$@"; do printf '%s\\0' "$a"; done; }\n${cmd}`],
    {
      cwd: dir,
      encoding: 'utf8',
    },
  );
  const text = readFileSync(join(dir, CLOUD_RUN_FILE), 'utf8');
  return { argv: out.split('\0').slice(0, -1), text, service: parseYaml(text) as KnativeService };
}

describe('cloud-run deployment', () => {
  const validate = knativeServiceValidator();
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rca-cloud-run-cmd-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each(HOSTILE)(
    'delivers %j intact inside a valid Knative Service that gcloud run services replace reads',
    (value) => {
      const { argv, service } = runWithoutGcloud(command(value), dir);
      expect(argv).toEqual(['run', 'services', 'replace', CLOUD_RUN_FILE, '--region', 'europe-west1']);
      expect(validate(service)).toBe(true);
      expect(validate.errors ?? []).toEqual([]);
      const [app, agent] = service.spec.template.spec.containers;
      expect(app).toEqual({
        name: 'app',
        image: 'us-docker.pkg.dev/cloudrun/container/hello',
        ports: [{ containerPort: 8080 }],
      });
      expect(agent.name).toBe('rca-agent');
      expect(agent.image).toBe(input(value).agentImage);
      expect(agent).not.toHaveProperty('ports');
      expect(Object.fromEntries(agent.env!.map((e) => [e.name, e.value]))).toEqual({
        RCA_TOKEN: `rca_et_${value}`,
        RCA_NATS_URL: input(value).natsUrl,
        RCA_PLATFORM_URL: input(value).platformUrl,
        RCA_AGENT_TYPE: 'cloud-run',
        RCA_LOG_LEVEL: 'info',
        RCA_STATE_DIR: '/tmp/rca-agent',
        RCA_SERVICE: 'checkout',
        RCA_REGION: 'europe-west1',
      });
    },
  );

  it('keeps the sidecar running between requests and on real cgroups, and names the region', () => {
    const { service } = runWithoutGcloud(command('v', { region: 'us-central1' }), dir);
    expect(service.spec.template.metadata.annotations).toEqual({
      'run.googleapis.com/cpu-throttling': 'false',
      'run.googleapis.com/execution-environment': 'gen2',
    });
    expect(service.metadata).toEqual({
      name: 'checkout',
      labels: { 'cloud.googleapis.com/location': 'us-central1' },
    });
  });

  it('passes the project to gcloud only when given, and the app image and port into the ingress container', () => {
    const { argv, service } = runWithoutGcloud(
      command('v', {
        project: 'shop-prod-4821',
        app_image: 'europe-docker.pkg.dev/shop/web/api:1.2',
        app_port: 3000,
      }),
      dir,
    );
    expect(argv.slice(4)).toEqual(['--region', 'europe-west1', '--project', 'shop-prod-4821']);
    expect(service.spec.template.spec.containers[0]).toMatchObject({
      image: 'europe-docker.pkg.dev/shop/web/api:1.2',
      ports: [{ containerPort: 3000 }],
    });
  });

  it('is checked by a schema that would catch a wrong field', () => {
    const { service } = runWithoutGcloud(command('v'), dir);
    const broken = JSON.parse(JSON.stringify(service)) as KnativeService & {
      spec: { template: { spec: Record<string, unknown> } };
    };
    (broken.spec.template.spec.containers[1] as Record<string, unknown>).enviroment = [];
    expect(validate(broken)).toBe(false);
    const wrongType = JSON.parse(JSON.stringify(service)) as KnativeService;
    (wrongType.spec.template.spec.containers[0].ports![0] as Record<string, unknown>).containerPort = '8080';
    expect(validate(wrongType)).toBe(false);
  });

  it('warns when the platform URLs are loopback', () => {
    const deployment = agentTypes.buildDeployment('cloud-run', {
      ...input('v'),
      platformUrl: 'http://localhost:3000',
    });
    expect(deployment.warnings).toEqual([expect.stringContaining('loopback URLs (http://localhost:3000)')]);
    expect(deployment.instructions.length).toBeGreaterThan(3);
  });

  it.each([
    ['service', 'Checkout'],
    ['service', '1checkout'],
    ['region', 'Europe West 1'],
    ['project', "shop'; id"],
    ['app_image', 'nginx; id'],
    ['app_port', 0],
    ['metadata_url', 'http://metadata.google.internal/computeMetadata'],
    ['cgroup_root', 'relative/path'],
  ])('refuses %s %j before any command is built', (field, value) => {
    let error: unknown;
    try {
      command('v', { [field]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationFailedError);
    expect((error as ValidationFailedError).errors?.map((e) => e.field)).toEqual([`config.${field}`]);
  });
});
