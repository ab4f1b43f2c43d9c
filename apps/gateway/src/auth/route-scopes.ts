import { ApiKeyScope } from '@app/contracts';

/**
 * The scope an API request needs, from its method and path: one table for every route, so a new route
 * is `admin` until it is listed here (a safe default). First match wins.
 */
const RULES: { methods?: string[]; path: RegExp; scope: ApiKeyScope }[] = [
  // Keys make keys: only admin keys see or change them.
  { path: /^\/api\/v1\/api-keys(\/|$)/, scope: 'admin' },
  { methods: ['GET', 'HEAD'], path: /^\//, scope: 'read' },
  // Irreversible or re-admitting: deleting a revoked agent's record, letting a revoked host back in, and
  // the fleet settings (whose cleanup revokes and deletes agents by itself).
  { path: /^\/api\/v1\/agents\/[^/]+\/(record|allow-reenroll)$/, scope: 'admin' },
  { path: /^\/api\/v1\/settings\/fleet$/, scope: 'admin' },
  // Operating the fleet: provisioning, enrollment tokens, revoking or labelling agents (one or in bulk),
  // handling alerts.
  { path: /^\/api\/v1\/agent\/provision$/, scope: 'provision' },
  { path: /^\/api\/v1\/environments\/[^/]+\/tokens(\/|$)/, scope: 'provision' },
  // Remote configuration of an environment's agents (an agent's own override falls under /agents below).
  { path: /^\/api\/v1\/environments\/[^/]+\/config$/, scope: 'provision' },
  { path: /^\/api\/v1\/agents(\/|$)/, scope: 'provision' },
  { path: /^\/api\/v1\/alerts\/[^/]+\/(acknowledge|resolve)$/, scope: 'provision' },
  // Alerting configuration (rules, channels, test sends) and anything unlisted.
];

export function requiredScope(method: string, path: string): ApiKeyScope {
  const upper = method.toUpperCase();
  const rule = RULES.find((r) => (!r.methods || r.methods.includes(upper)) && r.path.test(path));
  return rule?.scope ?? 'admin';
}
