import { DeclaredMetric } from '../agent-type';

/** Every metric the Docker agent reports; docs/agent.md and the dashboard read this table. */
export const dockerMetrics: DeclaredMetric[] = [
  {
    name: 'docker.daemon.info',
    unit: '1',
    info: true,
    description: 'Always 1; tags carry server_version, os, kernel, storage_driver, cgroup_version.',
  },
  { name: 'docker.daemon.cpus', unit: '1', description: 'CPUs the daemon sees.' },
  { name: 'docker.daemon.memory', unit: 'By', description: 'Memory the daemon sees.' },
  { name: 'docker.images', unit: '1', description: 'Images on the host.' },
  {
    name: 'docker.containers',
    unit: '1',
    description:
      'Containers per state; tag state (created, running, paused, restarting, removing, exited, dead).',
  },
  {
    name: 'docker.container.cpu.usage',
    unit: '%',
    description: 'CPU used since the previous reading, 100 = one CPU; tags container, name, image.',
  },
  {
    name: 'docker.container.memory.usage',
    unit: 'By',
    description: 'Memory used minus page cache (inactive_file), as `docker stats` shows it.',
  },
  {
    name: 'docker.container.memory.limit',
    unit: 'By',
    description: 'Memory limit (host memory when unlimited).',
  },
  { name: 'docker.container.memory.percent', unit: '%', description: 'usage / limit.' },
  {
    name: 'docker.container.network.rx_bytes',
    unit: 'By',
    description: 'Bytes received, all interfaces (counter).',
  },
  {
    name: 'docker.container.network.tx_bytes',
    unit: 'By',
    description: 'Bytes sent, all interfaces (counter).',
  },
  {
    name: 'docker.container.blkio.read_bytes',
    unit: 'By',
    description: 'Bytes read from block devices (counter).',
  },
  {
    name: 'docker.container.blkio.write_bytes',
    unit: 'By',
    description: 'Bytes written to block devices (counter).',
  },
  {
    name: 'docker.container.pids',
    unit: '1',
    description: 'Processes in the container (absent when the daemon does not report pids_stats).',
  },
];
