/**
 * Agent footprint per type and per build: real agent processes (server; docker against podman's Docker
 * API when `podman` is installed; kubernetes against a stand-in API server replaying the recorded
 * answers in libs/agent-core/src/kubernetes/testdata) at a fleet-typical interval, all in one run
 * beside a bare Node process (`node -e 'setInterval(…)'`), against one secured nats-server and a fake
 * platform intake. Each agent runs as each build (BUILD below):
 *
 *   dist     node dist/apps/agent/src/main.js (tsc output: what the npm package ran before the bundle)
 *   bundle   node dist/agent/bundle/main.js (what install.sh's Node fallback and the image run)
 *   binary   dist/agent/rca-agent-linux-x64 (the self-contained executable, Linux x64)
 *
 * RSS (VmRSS) is sampled every sixth of the run; CPU is utime + stime from /proc/<pid>/stat from t = 20 s
 * (after start-up, enrollment and the first collection) to the end, as % of one core. The processes
 * share 2 cores, but CPU time is counted per process.
 *
 *   npm run build && node -r @swc-node/register bench/agent-footprint-types.ts
 *   AGENT_FOOTPRINT_MINUTES=5 AGENT_FOOTPRINT_INTERVAL=10 AGENT_FOOTPRINT_BUILDS=dist,bundle,binary \
 *     AGENT_FOOTPRINT_TYPES=server,docker,kubernetes node -r @swc-node/register bench/agent-footprint-types.ts
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { formatToken } from '@app/contracts';
import { agentCommand, startFakePlatform, startNatsServer, waitFor } from '@app/testing';
import { cpuSeconds, MiB, rssBytes } from './lib/process-sampler';
import { ResidentMap, residentMap } from './lib/resident-map';

const ROOT = resolve(__dirname, '..');
const MINUTES = Number(process.env.AGENT_FOOTPRINT_MINUTES ?? 5);
const INTERVAL_SECONDS = Number(process.env.AGENT_FOOTPRINT_INTERVAL ?? 10);
const BUILDS = (process.env.AGENT_FOOTPRINT_BUILDS ?? 'dist;bundle;binary').split(';');
const TYPES = (process.env.AGENT_FOOTPRINT_TYPES ?? 'server,docker,kubernetes').split(',');
/** Start-up, enrollment and the first collection are excluded from the CPU figure. */
const WARM_UP_MS = 20_000;
/** With AGENT_FOOTPRINT_MAP=1, where each process's resident pages are at the end (bench/lib/resident-map.ts). */
const RESIDENT_MAP = process.env.AGENT_FOOTPRINT_MAP === '1';
const KUBE_TESTDATA = join(ROOT, 'libs/agent-core/src/kubernetes/testdata');

interface Measured {
  name: string;
  type: string;
  build: string;
  child: ChildProcess;
  rssMb: number[];
  anonMb: number[];
  warmCpu: number;
}

/**
 * RssAnon: the process's own memory (heap, malloc, stacks). The rest of RSS is file pages of the Node
 * (or rca-agent) executable: clean, shared with other processes mapping the same file, reclaimable.
 */
function anonMb(pid: number): number {
  const kb = Number(/^RssAnon:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return round(kb / 1024);
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

type Command = { command: string; args: string[]; env: Record<string, string>; dropCache?: boolean };
const VARIABLE = /^[A-Z_][A-Z0-9_]*=/;

/**
 * `dist`, `bundle` or `binary`, optionally another build's file after `=` (`binary=/tmp/old/rca-agent-linux-x64`,
 * `bundle=/tmp/old/bundle/main.js`: a before/after in one run), then Node flags and environment variables in
 * brackets: `bundle[--max-semi-space-size=1]`, `binary[--jitless UV_THREADPOOL_SIZE=1]` (the executable gets
 * the flags through NODE_OPTIONS); `cached` in the brackets starts an executable without first dropping it from
 * the page cache.
 */
function commandFor(build: string): Command {
  const [, kind, file, inBrackets] = /^(\w+)(?:=([^[]+))?(?:\[(.*)\])?$/.exec(build) ?? [];
  const words = inBrackets ? inBrackets.split(' ').filter(Boolean) : [];
  const keepCache = words.includes('cached');
  const flags = words.filter((w) => !VARIABLE.test(w) && w !== 'cached');
  const env = Object.fromEntries(
    words
      .filter((w) => VARIABLE.test(w))
      .map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]),
  );
  if (kind === 'dist') {
    const main = file ?? join(ROOT, 'dist/apps/agent/src/main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build`);
    return { command: process.execPath, args: [...flags, main], env };
  }
  if (kind === 'bundle')
    return { command: process.execPath, args: [...flags, file ?? agentCommand('bundle').args[0]], env };
  if (kind === 'binary') {
    const binary = file ?? agentCommand('binary').command;
    return {
      command: binary,
      args: [],
      env: flags.length ? { ...env, NODE_OPTIONS: flags.join(' ') } : env,
      dropCache: !keepCache,
    };
  }
  throw new Error(`unknown build ${build}`);
}

/**
 * As after a reboot or install.sh, an executable is not in the page cache when it starts: a file just
 * written can be cached in a way that makes its process keep up to ~10 MiB more of it resident
 * (BENCHMARKS.md). GNU dd writes it out (fdatasync), then posix_fadvise(DONTNEED)s the whole file; only
 * this file's pages go. Done before any agent starts: a running executable cannot be opened for writing.
 */
function dropFromPageCache(file: string): void {
  try {
    execFileSync('dd', [`of=${file}`, 'oflag=nocache', 'conv=notrunc,fdatasync', 'count=0', 'status=none'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (error) {
    console.log(`could not drop ${file} from the page cache (${String(error)}): its RSS may read high`);
  }
}

/** The Kubernetes API as the recorded answers give it (same routes as kubernetes-collectors.spec.ts). */
function startFakeKubernetes(): Promise<Server> {
  const file = (name: string) => readFileSync(join(KUBE_TESTDATA, name), 'utf8');
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const routes: Record<string, () => string> = {
      '/api/v1/nodes': () => file('nodes.json'),
      '/api/v1/pods': () => file(url.searchParams.get('continue') ? 'pods-page-2.json' : 'pods-page-1.json'),
      '/api/v1/namespaces/kube-system': () => file('kube-system.json'),
    };
    const route = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined;
    res.writeHead(route ? 200 : 404, { 'content-type': 'application/json' });
    res.end(route ? route() : JSON.stringify({ kind: 'Status', status: 'Failure', code: 404 }));
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

/** `podman system service` on a private socket: the Docker Engine API the docker agent reads. */
async function startPodman(dir: string): Promise<{ socket: string; stop: () => void } | undefined> {
  try {
    execFileSync('podman', ['--version'], { stdio: 'ignore' });
  } catch {
    console.log('podman is not installed: the docker type is skipped');
    return undefined;
  }
  const socket = join(dir, 'podman.sock');
  const service = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], { stdio: 'ignore' });
  await waitFor('the podman socket', async () => existsSync(socket), 15_000, 100);
  return { socket, stop: () => service.kill('SIGTERM') };
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'rca-footprint-types-'));
  const nats = await startNatsServer({ secured: true });
  const platform = await startFakePlatform(nats);
  const kubernetes = TYPES.includes('kubernetes') ? await startFakeKubernetes() : undefined;
  const podman = TYPES.includes('docker') ? await startPodman(work) : undefined;
  const kubeconfig = join(work, 'kubeconfig.yaml');
  if (kubernetes) {
    const server = `http://127.0.0.1:${(kubernetes.address() as AddressInfo).port}`;
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: recorded\n  cluster:\n    server: ${server}\n` +
        `users:\n- name: agent\n  user:\n    token: bench\ncontexts:\n- name: recorded\n  context:\n` +
        `    cluster: recorded\n    user: agent\ncurrent-context: recorded\n`,
    );
  }
  const typeEnv: Record<string, Record<string, string> | undefined> = {
    server: {},
    docker: podman ? { DOCKER_HOST: `unix://${podman.socket}` } : undefined,
    kubernetes: kubernetes ? { KUBECONFIG: kubeconfig } : undefined,
  };

  const measured: Measured[] = [];
  const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 10_000)'], { stdio: 'ignore' });
  measured.push({
    name: 'bare node',
    type: '-',
    build: 'node',
    child: bare,
    rssMb: [],
    anonMb: [],
    warmCpu: 0,
  });
  const commands = new Map(BUILDS.map((build) => [build, commandFor(build)]));
  for (const file of new Set([...commands.values()].filter((c) => c.dropCache).map((c) => c.command)))
    dropFromPageCache(file);
  for (const type of TYPES) {
    if (!typeEnv[type]) continue;
    for (const build of BUILDS) {
      const { command, args, env } = commands.get(build)!;
      const child = spawn(command, args, {
        cwd: work,
        env: {
          PATH: process.env.PATH,
          RCA_TOKEN: formatToken('enrollment', randomBytes),
          RCA_NATS_URL: nats.url,
          RCA_PLATFORM_URL: platform.url,
          RCA_CA_FILE: platform.caFile,
          RCA_AGENT_TYPE: type,
          RCA_HEARTBEAT_INTERVAL: String(INTERVAL_SECONDS),
          RCA_COLLECT_INTERVAL: String(INTERVAL_SECONDS),
          RCA_STATE_DIR: mkdtempSync(join(work, `${type}-`)),
          RCA_LOG_LEVEL: 'warn',
          ...typeEnv[type],
          ...env,
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      measured.push({ name: `${type} (${build})`, type, build, child, rssMb: [], anonMb: [], warmCpu: 0 });
    }
  }
  console.log(
    `${measured.length - 1} agents + bare node, ${INTERVAL_SECONDS} s interval, ${MINUTES} min` +
      (TYPES.includes('docker') && !podman ? ' (no docker: podman missing)' : ''),
  );

  const sample = () => {
    for (const m of measured) {
      if (m.child.exitCode !== null) continue;
      m.rssMb.push(round(rssBytes(m.child.pid!) / MiB));
      m.anonMb.push(anonMb(m.child.pid!));
    }
  };
  const started = Date.now();
  await new Promise((r) => setTimeout(r, WARM_UP_MS));
  sample();
  for (const m of measured) if (m.child.exitCode === null) m.warmCpu = cpuSeconds(m.child.pid!);
  const warmAt = Date.now();
  const every = (MINUTES * 60_000 - WARM_UP_MS) / 6;
  while (Date.now() - started < MINUTES * 60_000) {
    await new Promise((r) => setTimeout(r, every));
    sample();
  }
  const seconds = (Date.now() - warmAt) / 1000;
  const maps = RESIDENT_MAP
    ? measured.map((m) => (m.child.exitCode === null ? residentMap(m.child.pid!) : {}))
    : [];
  const rows = measured.map((m) => {
    const alive = m.child.exitCode === null;
    const cpu = alive ? cpuSeconds(m.child.pid!) - m.warmCpu : NaN;
    return {
      name: m.name,
      type: m.type,
      build: m.build,
      alive,
      finalRssMb: m.rssMb[m.rssMb.length - 1],
      maxRssMb: Math.max(...m.rssMb),
      finalAnonMb: m.anonMb[m.anonMb.length - 1],
      rssSamplesMb: m.rssMb,
      cpuPercent: round((cpu / seconds) * 100, 2),
    };
  });
  for (const m of measured) m.child.kill('SIGTERM');
  await Promise.all(
    measured.map((m) =>
      m.child.exitCode === null ? new Promise((r) => m.child.once('exit', r)) : undefined,
    ),
  );
  podman?.stop();
  kubernetes?.close();
  await platform.close();
  await nats.dispose();
  rmSync(work, { recursive: true, force: true });

  const bareRss = rows[0].finalRssMb;
  console.log(
    '\n| agent (build) | RSS at end MiB | RSS max MiB | × bare Node RSS | of it anonymous MiB | CPU % of a core |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const row of rows)
    console.log(
      `| ${row.name}${row.alive ? '' : ' (EXITED)'} | ${row.finalRssMb} | ${row.maxRssMb} | ${round(row.finalRssMb / bareRss, 2)} | ${row.finalAnonMb} | ${row.cpuPercent} |`,
    );
  if (RESIDENT_MAP)
    printResidentMaps(
      measured.map((m) => m.name),
      maps,
    );
  console.log(
    JSON.stringify({
      intervalSeconds: INTERVAL_SECONDS,
      steadySeconds: round(seconds),
      bareRssMb: bareRss,
      rows,
    }),
  );
}

/** One row per part of memory (MiB), one column per process. */
function printResidentMaps(names: string[], maps: ResidentMap[]): void {
  const parts = [...new Set(maps.flatMap((m) => Object.keys(m)))].sort(
    (a, b) => (maps[1]?.[b] ?? 0) - (maps[1]?.[a] ?? 0),
  );
  const cell = (kb: number | undefined) => String(round((kb ?? 0) / 1024));
  console.log(`\n| resident MiB | ${names.join(' | ')} |`);
  console.log(`|---|${names.map(() => '---').join('|')}|`);
  for (const part of parts) console.log(`| ${part} | ${maps.map((m) => cell(m[part])).join(' | ')} |`);
  const total = (m: ResidentMap) => Object.values(m).reduce((a, b) => a + b, 0);
  console.log(`| total | ${maps.map((m) => cell(total(m))).join(' | ')} |`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
