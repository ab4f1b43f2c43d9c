/**
 * Source of a TypeScript file that calls every operation of an OpenAPI document through the types
 * openapi-typescript generated from it (`./api`): a call per route, path parameters filled with their
 * examples (or a placeholder), bodies with the request example. It compiles only if each route, method,
 * parameter and example agrees with the generated types.
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
  requestBody?: { content?: Record<string, { example?: unknown; schema?: { example?: unknown } }> };
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
      const example = json?.example ?? json?.schema?.example;
      if (example !== undefined) request.body = example;
      calls.push(`    call(${JSON.stringify(path)}, '${method}', ${JSON.stringify(request)}),`);
    }
  }
  return { source: `${PRELUDE}${calls.join('\n')}\n  ]);\n}\n`, operations: calls.length };
}
