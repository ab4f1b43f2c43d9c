import { randomUUID } from 'node:crypto';
import { Subjects } from '@app/contracts';
import { openDatabase } from '@app/persistence';
import { benchConfig } from './lib/bench-config';
import { BenchContext, Scenario } from './lib/harness';
import { httpLoad } from './lib/http-load';
import { startPlatform } from './lib/platform';
import { isBuilt } from './lib/services';

/** The fleet the overview is read over. */
const AGENTS = 10_000;
const ENVIRONMENTS = 10;
const STATUSES = [
  'online',
  'online',
  'online',
  'online',
  'online',
  'degraded',
  'offline',
  'stopped',
  'pending',
  'revoked',
];
const VERSIONS = ['0.1.0', '0.1.0', '0.1.0', '0.0.9', '0.0.8'];
const TYPES = ['server', 'docker', 'kubernetes'];
/** Sequential requests per route per run: latency of one request, not throughput. */
const REQUESTS = 30;
/** Rows per seeding insert (16 columns: under SQLite's parameter limit). */
const SEED_CHUNK = 500;

/** The registry rows the bench writes (provisioning's `agents` table). */
interface RegistryDB {
  agents: {
    id: string;
    organization_id: string;
    environment: string;
    type: string;
    hostname: string;
    host_id: string;
    os: string;
    version: string;
    status: string;
    labels: string;
    identity_id: string | null;
    enrollment_token_id: string;
    first_seen_at: number;
    last_seen_at: number | null;
    revoked_at: number | null;
  };
}

/**
 * One request of the fleet overview (GET /fleet/summary: counts by status, type, environment) and of
 * GET /fleet/versions over 10,000 registered agents, against the cheapest authenticated request through
 * the same gateway and one RPC (GET /environments), in the same run.
 */
export const fleetOverview: Scenario = {
  name: 'fleet-overview',
  title: 'Fleet overview and versions over 10,000 agents, one request each',
  async run(ctx: BenchContext) {
    for (const s of ['tokens', 'provisioning', 'ingestion', 'gateway'] as const)
      if (!isBuilt(s)) throw new Error(`dist/apps/${s} is missing: run npm run build`);
    const engine = benchConfig().TEST_DATABASE_URL ? 'postgres' : 'sqlite';
    ctx.note(
      `${AGENTS.toLocaleString('en-US')} agents in ${ENVIRONMENTS} environments, ${TYPES.length} types, ${new Set(VERSIONS).size} versions, ` +
        `statuses ${[...new Set(STATUSES)].join('/')}; ${REQUESTS} sequential requests per route and run (keep-alive); ${engine}`,
    );
    await ctx.repeat(async () => {
      const platform = await startPlatform({
        engine,
        services: ['tokens', 'provisioning', 'ingestion', 'gateway'],
      });
      try {
        await seed(platform);
        const measure = async (path: string) => {
          const result = await httpLoad({
            url: `${platform.gatewayUrl}${path}`,
            method: 'GET',
            headers: { authorization: `Bearer ${platform.apiKey}` },
            concurrency: 1,
            durationMs: 120_000,
            maxRequests: REQUESTS,
            expectStatus: 200,
          });
          if (result.failed) throw new Error(`${path}: ${result.failed} failed (${result.firstFailure})`);
          return result.p50Ms;
        };
        // Warm-up: connections, caches, the query planner.
        for (const path of ['/api/v1/environments', '/api/v1/fleet/summary', '/api/v1/fleet/versions'])
          await measure(path);
        const baseline = 'GET /environments p50 (baseline)';
        ctx.record(baseline, 'ms', await measure('/api/v1/environments'));
        ctx.record('GET /fleet/summary p50, 10k agents', 'ms', await measure('/api/v1/fleet/summary'), {
          baseline,
          note: 'one request: one grouped count in provisioning (environment × type × status), the types and environments lists, the recent-offline reader and ingestion stats',
        });
        ctx.record('GET /fleet/versions p50, 10k agents', 'ms', await measure('/api/v1/fleet/versions'), {
          baseline,
          note: 'one RPC: a grouped count by (version, type) and the first 100 agents behind',
        });
        ctx.record('GET /agents (page of 50) p50, 10k agents', 'ms', await measure('/api/v1/agents'), {
          baseline,
        });
      } finally {
        await platform.stop();
      }
    });
  },
};

async function seed(platform: Awaited<ReturnType<typeof startPlatform>>): Promise<void> {
  const environments = Array.from({ length: ENVIRONMENTS }, (_, i) => `env-${i}`);
  for (const name of environments)
    await platform.rpc.request(Subjects.provisioning.ensureEnvironment, {
      organizationId: platform.organizationId,
      name,
    });
  const db = await openDatabase<RegistryDB>({ ...platform.database.options, name: 'provisioning' });
  try {
    const now = Date.now();
    for (let i = 0; i < AGENTS; i += SEED_CHUNK) {
      const rows = Array.from({ length: Math.min(SEED_CHUNK, AGENTS - i) }, (_, j) => {
        const n = i + j;
        const status = STATUSES[n % STATUSES.length];
        return {
          id: `ag_bench${n}`,
          organization_id: platform.organizationId,
          environment: environments[n % ENVIRONMENTS],
          type: TYPES[n % TYPES.length],
          hostname: `host-${n}`,
          host_id: randomUUID(),
          os: 'linux',
          version: VERSIONS[n % VERSIONS.length],
          status,
          labels: '{}',
          identity_id: null,
          enrollment_token_id: 'tok_bench',
          first_seen_at: now - n,
          last_seen_at: status === 'pending' ? null : now - n,
          revoked_at: status === 'revoked' ? now : null,
        };
      });
      await db.db.insertInto('agents').values(rows).execute();
    }
  } finally {
    await db.close();
  }
}
