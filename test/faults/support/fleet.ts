import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NatsClusterHandle, waitFor } from '@app/testing';
import { cleanEnv } from '../../support/launcher';
import { PlatformProcess } from './service-process';

/** A batch as the agent numbered it: its seq and when it was collected (the agent's debug log). */
export interface PublishedBatch {
  seq: number;
  at: number;
}

/** One real agent (the built bundle or executable, `agentCommand`), pinned to one node, with what it collected. */
export interface FleetAgent {
  name: string;
  home: number;
  /** Known once it enrolled (its state.json). */
  id: string;
  process: PlatformProcess;
  /** Every batch it numbered, in order: what "published" counts. */
  published: PublishedBatch[];
}

/**
 * `perNode` Server agents on each node, heartbeating and collecting every second, each with its own
 * key and state directory, enrolled with one token through the gateway's HTTPS intake.
 */
export async function startFleet(options: {
  cluster: NatsClusterHandle;
  perNode: number;
  token: string;
  platformUrl: string;
  caPin: string;
}): Promise<{ agents: FleetAgent[]; stop(): Promise<void> }> {
  const root = mkdtempSync(join(tmpdir(), 'rca-fleet-'));
  const agents: FleetAgent[] = [];
  for (const node of options.cluster.nodes)
    for (let k = 0; k < options.perNode; k++) {
      const name = `agent-${node.index}${String.fromCharCode(97 + k)}`;
      const stateDir = join(root, name);
      const agent: FleetAgent = {
        name,
        home: node.index,
        id: '',
        published: [],
        process: new PlatformProcess(name, 'agent', () =>
          cleanEnv({
            RCA_TOKEN: options.token,
            // Its own node only: it learns the rest of the cluster from it.
            RCA_NATS_URL: node.url,
            RCA_PLATFORM_URL: options.platformUrl,
            RCA_CA_PIN: options.caPin,
            RCA_AGENT_TYPE: 'server',
            RCA_HEARTBEAT_INTERVAL: '1',
            RCA_COLLECT_INTERVAL: '1',
            RCA_STATE_DIR: stateDir,
            // `collected` (seq per batch) is a debug line.
            RCA_LOG_LEVEL: 'debug',
          }),
        ),
      };
      agent.process.onLine((line) => {
        if (!line.includes('"collected"')) return;
        try {
          const entry = JSON.parse(line) as { msg?: string; seq?: number | number[]; time?: number };
          // One collection is one batch, or several for a big one: `seq` is then the list of their numbers.
          const seqs =
            typeof entry.seq === 'number' ? [entry.seq] : Array.isArray(entry.seq) ? entry.seq : [];
          if (entry.msg === 'collected' && typeof entry.time === 'number')
            for (const seq of seqs) agent.published.push({ seq, at: entry.time });
        } catch {
          // Not a log record: the failure output keeps it.
        }
      });
      agents.push(agent);
    }
  for (const agent of agents) agent.process.start();
  try {
    for (const agent of agents) {
      agent.id = await waitFor(
        `${agent.name} enrolled`,
        () => {
          if (!agent.process.running)
            throw new Error(`${agent.name} exited:\n${agent.process.output().slice(-3000)}`);
          return (
            JSON.parse(readFileSync(join(root, agent.name, 'state.json'), 'utf8')) as { agentId?: string }
          ).agentId;
        },
        60_000,
        200,
      );
    }
  } catch (error) {
    await Promise.all(agents.map((a) => a.process.kill()));
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  return {
    agents,
    stop: async () => {
      await Promise.all(agents.map((a) => a.process.kill()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
