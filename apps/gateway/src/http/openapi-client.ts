/**
 * Source of a TypeScript file that calls every operation of an OpenAPI document through the types
 * openapi-typescript generated from it (`./api`): a call per route, path parameters filled with their
 * examples (or a placeholder), bodies with the request example. It compiles only if each route, method,
 * parameter and example agrees with the generated types. RESPONSE_CHECKS then reads the bodies of a few
 * routes: a field the document declares compiles, a misspelt one or a null left unchecked does not.
 */
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  example?: unknown;
  schema?: { type?: string; example?: unknown };
}
interface OperationLike {
  parameters?: Parameter[];
  requestBody?: {
    content?: Record<
      string,
      { example?: unknown; examples?: Record<string, { value?: unknown }>; schema?: { example?: unknown } }
    >;
  };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

const PRELUDE = `import type { paths } from './api';

type Method = 'get' | 'put' | 'post' | 'delete' | 'patch';
/** Only the methods the path has. */
type MethodOf<P extends keyof paths> = {
  [M in Method]: [NonNullable<paths[P][M]>] extends [never] ? never : M;
}[Method];
type Op<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type Parameters<O> = O extends { parameters: infer X } ? X : never;
type Body<O> = O extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;
type Responses<O> = O extends { responses: infer R } ? R : never;

declare function call<P extends keyof paths, M extends MethodOf<P>>(
  path: P,
  method: M,
  request: { path?: Parameters<Op<P, M>> extends { path?: infer X } ? X : never; body?: Body<Op<P, M>> },
): Promise<Responses<Op<P, M>>>;

export async function callEveryRoute(): Promise<unknown[]> {
  return Promise.all([
`;

function valueOf(parameter: Parameter): unknown {
  const example = parameter.example ?? parameter.schema?.example;
  if (example !== undefined) return example;
  return parameter.schema?.type === 'integer' || parameter.schema?.type === 'number' ? 1 : 'example';
}

export function clientCallsSource(document: { paths: Record<string, Record<string, unknown>> }): {
  source: string;
  operations: number;
} {
  const calls: string[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method] as OperationLike | undefined;
      if (!operation) continue;
      const pathParams = (operation.parameters ?? []).filter((p) => p.in === 'path');
      const request: Record<string, unknown> = {};
      if (pathParams.length) request.path = Object.fromEntries(pathParams.map((p) => [p.name, valueOf(p)]));
      const json = operation.requestBody?.content?.['application/json'];
      const example = json?.example ?? Object.values(json?.examples ?? {})[0]?.value ?? json?.schema?.example;
      if (example !== undefined) request.body = example;
      calls.push(`    call(${JSON.stringify(path)}, '${method}', ${JSON.stringify(request)}),`);
    }
  }
  return {
    source: `${PRELUDE}${calls.join('\n')}\n  ]);\n}\n${RESPONSE_CHECKS}`,
    operations: calls.length,
  };
}

/** Typed reads of representative responses (and one request), each wrong use marked as an expected error. */
const RESPONSE_CHECKS = `
export async function readResponses(): Promise<unknown[]> {
  const agents = (await call('/api/v1/agents', 'get', {}))[200].content['application/json'];
  const hostname: string = agents.items[0].hostname;
  const total: number = agents.total;
  // @ts-expect-error an agent has no host_name (it is hostname)
  const misspelt: unknown = agents.items[0].host_name;
  const status: 'pending' | 'online' | 'degraded' | 'offline' | 'stopped' | 'revoked' = agents.items[0].status;
  const labels: Record<string, string> = agents.items[0].labels;

  const agent = (await call('/api/v1/agents/{id}', 'get', { path: { id: 'ag_1' } }))[200].content['application/json'];
  // @ts-expect-error last_seen_at is null until the first heartbeat
  const lastSeen: string = agent.last_seen_at;

  const summary = (await call('/api/v1/fleet/summary', 'get', {}))[200].content['application/json'];
  const online: number = summary.by_status.online;
  // @ts-expect-error recently_offline is null when the event stream cannot be read
  const recent = summary.recently_offline.agents;

  const provisioned = (
    await call('/api/v1/agent/provision', 'post', { body: { agent_type: 'docker', environment_name: 'prod-1' } })
  )[201].content['application/json'];
  const token: string = provisioned.enrollment_token;
  const command: string = provisioned.commands[0].command;

  const alerts = (await call('/api/v1/alerts', 'get', {}))[200].content['application/json'];
  const alertHost: string | null = alerts.items[0].agent_hostname;
  const state: 'pending' | 'firing' | 'resolved' | 'cancelled' = alerts.items[0].state;

  const channel = (
    await call('/api/v1/alerts/channels', 'post', {
      body: { name: 'ops', type: 'webhook', url: 'https://hooks.example.com/rca' },
    })
  )[201].content['application/json'];
  const secret: string = channel.secret;

  await call('/api/v1/alerts/rules', 'post', {
    // @ts-expect-error a rule's kind is one of agent_offline, agent_revoked, enrollment_failures
    body: { name: 'cpu', kind: 'cpu_high', channel_ids: ['c1'] },
  });

  // The agent intake speaks the agents' camelCase wire.
  const enrolled = (
    await call('/api/v1/intake/enroll', 'post', {
      body: {
        agentType: 'docker',
        agentVersion: '0.1.0',
        host: { hostname: 'web-1', hostId: 'h1', os: 'linux' },
        identity: { publicKey: 'U', proof: 'p' },
      },
    })
  )[200].content['application/json'];
  const agentId: string = enrolled.agentId;
  // @ts-expect-error the reply is camelCase: agentId, not agent_id
  const snake: unknown = enrolled.agent_id;

  const chart: string = (await call('/charts/{file}', 'get', { path: { file: 'rca-agent-0.1.0.tgz' } }))[200]
    .content['application/gzip'];
  const script: string = (await call('/install.sh', 'get', {}))[200].content['text/x-shellscript'];

  return [hostname, total, misspelt, status, labels, lastSeen, online, recent, token, command, alertHost, state,
    secret, agentId, snake, chart, script];
}
`;
