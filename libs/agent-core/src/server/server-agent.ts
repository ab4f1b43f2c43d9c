import { systemReadings as si } from './system-readings';
import { HostIdentity } from '@app/contracts';
import { BaseAgent } from '../base-agent';

/** A plain host. Its identity comes from the OS itself, on every platform systeminformation knows. */
export class ServerAgent extends BaseAgent {
  protected override async describeHost(fallbackId: string | undefined): Promise<HostIdentity> {
    const base = await super.describeHost(fallbackId);
    try {
      // /etc/machine-id on Linux, IOPlatformUUID on macOS, MachineGuid on Windows.
      const [uuid, os] = await Promise.all([si.uuid(), si.osInfo()]);
      return {
        ...base,
        hostId: uuid.os || base.hostId,
        osVersion: [os.distro, os.release].filter(Boolean).join(' ') || base.osVersion,
      };
    } catch (error) {
      this.log.warn({ err: error }, 'could not read the OS machine id; using the default host identity');
      return base;
    }
  }
}
