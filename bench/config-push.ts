import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { JSONCodec, NatsConnection } from 'nats';
import {
  AgentControlMessage,
  ConfigVersionRecord,
  Environment,
  SaveEnvironmentConfigRequest,
  Subjects,
} from '@app/contracts';
import { benchConfig } from './lib/bench-config';
import { BenchContext, Scenario } from './lib/harness';
import { startPlatform } from './lib/platform';
import { isBuilt } from './lib/services';

const ENVIRONMENT = 'bench-config';
const json = JSONCodec<AgentControlMessage>();
/** Longest a push may take before the run fails (rather than hang). */
const DEADLINE_MS = 120_000;

/**
 * Remote configuration pushed to a whole environment: `fleet.configs.environment.save` (one new version,
 * audited, then one control message per agent, read back from the database with every agent's override)
 * until the last of BENCH_CONFIG_AGENTS control messages has arrived at a subscriber standing in for the agents. Baseline:
 * the same subscriber receiving the same bytes published by a plain nats.js loop on the same subjects.
 */
export const configPush: Scenario = {
  name: 'config-push',
  title: 'Remote configuration: one save pushed to every agent of an environment',
  async run(ctx) {
    for (const s of ['tokens', 'provisioning'] as const)
      if (!isBuilt(s)) throw new Error(`dist/apps/${s} is missing: run npm run build`);
    const platform = await startPlatform({ engine: 'sqlite', services: ['tokens', 'provisioning'] });
    try {
      const { nc, rpc, organizationId } = platform;
      await rpc.request<Environment>(Subjects.provisioning.ensureEnvironment, {
        organizationId,
        name: ENVIRONMENT,
      });
      const agents = benchConfig().BENCH_CONFIG_AGENTS;
      const ids = seedAgents(
        join(platform.database.env.DATA_DIR!, 'provisioning.db'),
        organizationId,
        agents,
      );
      ctx.note(`${ids.length} agents seeded in ${ENVIRONMENT} (SQLite); provisioning as a child process`);

      let sample: Uint8Array | undefined;
      await ctx.repeat(async (run) => {
        const pushed = await receiveAll(nc, ids.length, async () => {
          const saved = await rpc.request<ConfigVersionRecord, SaveEnvironmentConfigRequest>(
            Subjects.fleet.configs.environmentSave,
            {
              organizationId,
              environment: ENVIRONMENT,
              settings: { heartbeatIntervalSeconds: 10 + run, logLevel: 'info' },
              actor: 'bench',
            },
          );
          return saved.version;
        });
        sample = pushed.sample;
        record(ctx, 'push through provisioning', pushed.ms, ids.length, 'raw publish of the same bytes');

        // Baseline: the same message to the same subjects, published by a plain loop.
        const raw = await receiveAll(nc, ids.length, async () => {
          for (const id of ids) nc.publish(Subjects.agentControl(ENVIRONMENT, id), sample!);
          await nc.flush();
          return 0;
        });
        record(ctx, 'raw publish of the same bytes', raw.ms, ids.length);
      });
      if (sample) ctx.note(`control message: ${sample.byteLength} B`);
    } finally {
      await platform.stop();
    }
  },
};

function record(ctx: BenchContext, name: string, ms: number, agents: number, baseline?: string): void {
  ctx.record(`${name}: messages/s`, 'msg/s', (agents / ms) * 1000, {
    ...(baseline ? { baseline: `${baseline}: messages/s` } : {}),
    note: baseline ? 'from the save request until the last control message arrived' : 'same subscriber',
  });
  ctx.record(`${name}: time to ${agents} agents`, 'ms', ms);
}

/** Runs `send` and resolves when `count` control messages arrived (one subscription on every control subject). */
async function receiveAll(
  nc: NatsConnection,
  count: number,
  send: () => Promise<number>,
): Promise<{ ms: number; sample: Uint8Array }> {
  let received = 0;
  let sample: Uint8Array | undefined;
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  const sub = nc.subscribe(Subjects.controlWildcard, {
    callback: (_, msg) => {
      sample ??= msg.data;
      if (++received === count) done();
    },
  });
  await nc.flush();
  const started = performance.now();
  const timer = setTimeout(() => done(), DEADLINE_MS);
  await send();
  await all;
  clearTimeout(timer);
  const ms = performance.now() - started;
  sub.unsubscribe();
  if (received < count)
    throw new Error(`only ${received} of ${count} control messages within ${DEADLINE_MS} ms`);
  const message = json.decode(sample!);
  if (message.type !== 'config' || !Number.isInteger(message.config?.version))
    throw new Error(`not a config push: ${JSON.stringify(message)}`);
  return { ms, sample: sample! };
}

/** `count` online agents of the bootstrap organisation, written straight into provisioning's database. */
function seedAgents(file: string, organizationId: string, count: number): string[] {
  const db = new SQLite(file);
  try {
    db.pragma('busy_timeout = 5000');
    const insert = db.prepare(
      `insert into agents (id, organization_id, environment, type, hostname, host_id, os, version, status, labels,
         identity_id, enrollment_token_id, first_seen_at, last_seen_at, revoked_at)
       values (?, ?, ?, 'server', ?, ?, 'linux', '0.1.0', 'online', '{}', null, 'et_bench', ?, ?, null)`,
    );
    const ids = Array.from({ length: count }, (_, i) => `ag_bench${String(i).padStart(6, '0')}`);
    const now = Date.now();
    db.transaction(() => {
      for (const id of ids) insert.run(id, organizationId, ENVIRONMENT, `host-${id}`, `hid-${id}`, now, now);
    })();
    return ids;
  } finally {
    db.close();
  }
}
