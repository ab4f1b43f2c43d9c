import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One reading of a container's cgroup; undefined fields are unlimited or absent. */
export interface CgroupReading {
  version: 'v1' | 'v2';
  cpuSeconds: number;
  cpuLimitCores?: number;
  memoryBytes: number;
  workingSetBytes: number;
  memoryLimitBytes?: number;
}

/** cgroup v1 writes "no limit" as the largest page-aligned int64; anything this large means unlimited. */
const V1_UNLIMITED = 2 ** 60;

const read = (root: string, file: string) => readFileSync(join(root, file), 'utf8').trim();

/** `key value` lines (cpu.stat, memory.stat) as numbers. */
function statFile(text: string): Record<string, number> {
  return Object.fromEntries(
    text
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((words) => words.length === 2)
      .map(([key, value]) => [key, Number(value)]),
  );
}

function firstExisting(root: string, candidates: string[]): string {
  const found = candidates.find((file) => existsSync(join(root, file)));
  if (!found) throw new Error(`no ${candidates[0]} under ${root}: not a cgroup v1 hierarchy the agent knows`);
  return found;
}

/**
 * The container's own cgroup as mounted at `root` inside it: v2 when `cgroup.controllers` is there,
 * else v1 with its per-controller directories (cpuacct and cpu may be joined as `cpu,cpuacct`).
 */
export function readCgroup(root: string): CgroupReading {
  if (existsSync(join(root, 'cgroup.controllers'))) {
    const cpu = statFile(read(root, 'cpu.stat'));
    const [quota, period] = existsSync(join(root, 'cpu.max')) ? read(root, 'cpu.max').split(/\s+/) : ['max'];
    const memoryBytes = Number(read(root, 'memory.current'));
    const memoryMax = read(root, 'memory.max');
    const inactive = statFile(read(root, 'memory.stat')).inactive_file ?? 0;
    return {
      version: 'v2',
      cpuSeconds: cpu.usage_usec / 1e6,
      cpuLimitCores: quota === 'max' ? undefined : Number(quota) / Number(period),
      memoryBytes,
      workingSetBytes: Math.max(0, memoryBytes - inactive),
      memoryLimitBytes: memoryMax === 'max' ? undefined : Number(memoryMax),
    };
  }
  const usage = firstExisting(root, ['cpuacct/cpuacct.usage', 'cpu,cpuacct/cpuacct.usage']);
  const cpuDir = firstExisting(root, ['cpu/cpu.cfs_quota_us', 'cpu,cpuacct/cpu.cfs_quota_us']).split('/')[0];
  const quota = Number(read(root, `${cpuDir}/cpu.cfs_quota_us`));
  const memoryBytes = Number(read(root, 'memory/memory.usage_in_bytes'));
  const limit = Number(read(root, 'memory/memory.limit_in_bytes'));
  const inactive = statFile(read(root, 'memory/memory.stat')).total_inactive_file ?? 0;
  return {
    version: 'v1',
    cpuSeconds: Number(read(root, usage)) / 1e9,
    cpuLimitCores: quota > 0 ? quota / Number(read(root, `${cpuDir}/cpu.cfs_period_us`)) : undefined,
    memoryBytes,
    workingSetBytes: Math.max(0, memoryBytes - inactive),
    memoryLimitBytes: limit >= V1_UNLIMITED ? undefined : limit,
  };
}

/** Cores used on average between two readings; undefined without a previous one or after a reset. */
export function coresUsed(
  previous: { cpuSeconds: number; at: number } | undefined,
  current: { cpuSeconds: number; at: number },
): number | undefined {
  if (!previous) return undefined;
  const elapsed = (current.at - previous.at) / 1000;
  const used = current.cpuSeconds - previous.cpuSeconds;
  return elapsed > 0 && used >= 0 ? used / elapsed : undefined;
}
