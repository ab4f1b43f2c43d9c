/**
 * What an agent's connection costs nats-server: N agents (CONNECT_AGENTS, default 2,000) connect to a
 * secured server (TLS, operator mode, each agent its own JWT and nkey challenge), and, as the
 * baseline in the same run, to an anonymous plain server (what the bus was before issue 13). Reports
 * nats-server's CPU per connection (from /proc), the bench client's, and connections/s with
 * CONNECT_CONCURRENCY (default 200) opening at once. The client does every handshake in one process,
 * so connections/s is the client's limit on this machine; nats-server's CPU per connection is the
 * figure that scales a real fleet (a restart of nats-server reconnects every agent at once).
 *
 *   node -r @swc-node/register bench/agent-connect-cost.ts
 */
import 'reflect-metadata';
import { connect, ConnectionOptions, jwtAuthenticator, NatsConnection } from 'nats';
import { createUser, KeyPair } from 'nkeys.js';
import { inboxPrefix } from '@app/contracts';
import { agentUserClaims, signUserJwt } from '@app/nats-auth';
import { NatsServerHandle, startNatsServer } from '@app/testing';
import { cpuSeconds } from './lib/process-sampler';

const AGENTS = Number(process.env.CONNECT_AGENTS ?? 2000);
const CONCURRENCY = Number(process.env.CONNECT_CONCURRENCY ?? 200);

interface Run {
  mode: string;
  connected: number;
  failed: number;
  seconds: number;
  connectionsPerSecond: number;
  serverCpuMsPerConnection: number;
  clientCpuMsPerConnection: number;
}

async function connectAll(
  mode: string,
  server: NatsServerHandle,
  optionsFor: (i: number) => ConnectionOptions,
): Promise<Run> {
  const connections: NatsConnection[] = [];
  let failed = 0;
  let next = 0;
  const serverCpu0 = cpuSeconds(server.pid!);
  const clientCpu0 = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < AGENTS) {
        const i = next++;
        try {
          connections.push(await connect({ servers: server.url, timeout: 30_000, ...optionsFor(i) }));
        } catch {
          failed++;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const serverCpu = cpuSeconds(server.pid!) - serverCpu0;
  const clientCpu = process.cpuUsage(clientCpu0);
  await Promise.all(connections.map((nc) => nc.close()));
  return {
    mode,
    connected: connections.length,
    failed,
    seconds,
    connectionsPerSecond: connections.length / seconds,
    serverCpuMsPerConnection: (serverCpu * 1000) / connections.length,
    clientCpuMsPerConnection: (clientCpu.user + clientCpu.system) / 1000 / connections.length,
  };
}

async function main() {
  const plain = await startNatsServer();
  const secured = await startNatsServer({ secured: true });
  try {
    const bus = secured.bus!;
    const account = bus.authority.accountKeys().agents;
    const signer = bus.authority.seed('agents-signing');
    // What the token service signs at enrollment: one key and JWT per agent, made before the clock starts.
    const agents: { key: KeyPair; jwt: string; agentId: string }[] = await Promise.all(
      Array.from({ length: AGENTS }, async (_, i) => {
        const agentId = `conn-${i}`;
        const key = createUser();
        const jwt = await signUserJwt({
          name: agentId,
          user: key.getPublicKey(),
          account,
          signer,
          claims: agentUserClaims('bench', agentId),
          expiresAtMs: Date.now() + 3_600_000,
        });
        return { key, jwt, agentId };
      }),
    );
    const baseline = await connectAll('anonymous, plain TCP (before)', plain, () => ({}));
    const after = await connectAll('own JWT + nkey, TLS (now)', secured, (i) => ({
      authenticator: jwtAuthenticator(agents[i].jwt, agents[i].key.getSeed()),
      tls: { caFile: bus.caFile },
      inboxPrefix: inboxPrefix(agents[i].agentId),
    }));
    console.table(
      [baseline, after].map((r) => ({
        ...r,
        seconds: +r.seconds.toFixed(2),
        connectionsPerSecond: Math.round(r.connectionsPerSecond),
        serverCpuMsPerConnection: +r.serverCpuMsPerConnection.toFixed(2),
        clientCpuMsPerConnection: +r.clientCpuMsPerConnection.toFixed(2),
      })),
    );
    console.log(
      `nats-server CPU per connection: ${(after.serverCpuMsPerConnection / baseline.serverCpuMsPerConnection).toFixed(1)}× the anonymous baseline`,
    );
  } finally {
    await plain.dispose();
    await secured.dispose();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
