/**
 * systeminformation's own modules, typed from its index's declarations: the server type imports the
 * five it reads (system-readings.ts), not the index, which loads all twenty.
 */
declare module 'systeminformation/lib/osinfo' {
  export { osInfo, uuid } from 'systeminformation';
}
declare module 'systeminformation/lib/cpu' {
  export { currentLoad } from 'systeminformation';
}
declare module 'systeminformation/lib/memory' {
  export { mem } from 'systeminformation';
}
declare module 'systeminformation/lib/filesystem' {
  export { fsSize } from 'systeminformation';
}
declare module 'systeminformation/lib/network' {
  export { networkStats } from 'systeminformation';
}
