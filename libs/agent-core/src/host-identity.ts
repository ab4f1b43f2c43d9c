import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { arch, hostname, platform, release } from 'node:os';
import { HostIdentity } from '@app/contracts';

/** Files that hold a stable per-machine id on Linux (systemd, then D-Bus). */
const MACHINE_ID_FILES = ['/etc/machine-id', '/var/lib/dbus/machine-id'];

export function osName(nodePlatform: NodeJS.Platform = platform()): string {
  return nodePlatform === 'win32' ? 'windows' : nodePlatform;
}

function readMachineId(): string | null {
  for (const file of MACHINE_ID_FILES) {
    try {
      const id = readFileSync(file, 'utf8').trim();
      if (id) return id;
    } catch {
      // Absent on macOS, Windows and minimal containers: the next source is tried.
    }
  }
  return null;
}

/**
 * The host as the platform should know it: hostname, a stable id (the machine id, or one generated
 * once and kept in the state file via `fallbackId`), OS and architecture.
 */
export function defaultHostIdentity(fallbackId: string | undefined): HostIdentity {
  return {
    hostname: hostname() || 'unknown',
    hostId: readMachineId() ?? fallbackId ?? randomUUID(),
    os: osName(),
    osVersion: release(),
    arch: arch(),
  };
}
