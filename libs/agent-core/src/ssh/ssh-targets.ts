/** One host the jump-host agent collects from. */
export interface SshTarget {
  user: string;
  host: string;
  port: number;
  /** `host` for port 22, else `host:port` (brackets kept for IPv6): the name in logs and pins. */
  address: string;
}

/** Splits `host`, `host:port`, `[v6]` or `[v6]:port` (already checked against the config pattern). */
export function parseHostPort(text: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) return { host: bracketed[1], port: Number(bracketed[2] ?? 22) };
  const [host, port] = text.split(':');
  return { host, port: Number(port ?? 22) };
}

/** How OpenSSH names a host in known_hosts and how pins are keyed: `host`, or `[host]:port` off port 22. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export function parseTargets(targets: string): SshTarget[] {
  const seen = new Set<string>();
  return targets.split(',').map((item) => {
    const at = item.lastIndexOf('@');
    const { host, port } = parseHostPort(item.slice(at + 1));
    const address = port === 22 ? host : host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    if (seen.has(address)) throw new Error(`target ${address} is listed twice`);
    seen.add(address);
    return { user: item.slice(0, at), host, port, address };
  });
}

/** `host[:port]=SHA256:…` pins keyed by knownHostsName. */
export function parseFingerprints(text: string | undefined): Map<string, string> {
  const pins = new Map<string, string>();
  for (const item of (text ?? '').split(',').filter(Boolean)) {
    const at = item.indexOf('=SHA256:');
    const { host, port } = parseHostPort(item.slice(0, at));
    pins.set(knownHostsName(host, port), item.slice(at + 1));
  }
  return pins;
}
