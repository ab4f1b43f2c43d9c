import { currentLoad } from 'systeminformation/lib/cpu';
import { fsSize } from 'systeminformation/lib/filesystem';
import { mem } from 'systeminformation/lib/memory';
import { networkStats } from 'systeminformation/lib/network';
import { osInfo, uuid } from 'systeminformation/lib/osinfo';

/**
 * What the server type reads through systeminformation, from the five modules that provide it. Its
 * index loads all twenty (graphics, wi-fi, USB, printers, a Bluetooth vendor table…): a third of the
 * agent's bundle and about 1 MB of resident heap that no collection uses.
 */
export const systemReadings = { osInfo, uuid, currentLoad, mem, fsSize, networkStats };
