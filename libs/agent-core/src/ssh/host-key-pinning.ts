import { createHash, createHmac } from 'node:crypto';
import { knownHostsName } from './ssh-targets';

/** OpenSSH's fingerprint of a host key blob: `SHA256:` + unpadded base64 of its SHA-256. */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** A hashed known_hosts name: `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`. */
function hashedNameMatches(pattern: string, name: string): boolean {
  const [, kind, salt, hash] = pattern.split('|');
  if (kind !== '1' || !salt || !hash) return false;
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
}

/**
 * The host key blobs known_hosts pins for `host:port`: plain and hashed names, comma lists of names.
 * Wildcards, negations and @cert-authority lines are not honoured (a pin here names one host); a
 * @revoked key is returned separately so it is refused even when another line lists it.
 */
export function knownHostKeys(
  text: string,
  host: string,
  port: number,
): { keys: Buffer[]; revoked: Buffer[] } {
  const name = knownHostsName(host, port);
  const keys: Buffer[] = [];
  const revoked: Buffer[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    const marker = fields[0].startsWith('@') ? fields.shift() : undefined;
    if (marker && marker !== '@revoked') continue;
    const [names, , key] = fields;
    if (!names || !key) continue;
    const matches = names.startsWith('|') ? hashedNameMatches(names, name) : names.split(',').includes(name);
    if (matches) (marker ? revoked : keys).push(Buffer.from(key, 'base64'));
  }
  return { keys, revoked };
}

export type HostKeyVerdict = { accepted: true } | { accepted: false; reason: string };

/**
 * Whether the key a target presented is the pinned one. A fingerprint in the config wins over
 * known_hosts; with neither the target is refused: there is no trust on first use.
 */
export function verifyHostKey(
  presented: Buffer,
  target: { host: string; port: number; address: string },
  pins: { fingerprint?: string; knownHosts?: string; knownHostsPath: string },
): HostKeyVerdict {
  const seen = fingerprintOf(presented);
  if (pins.fingerprint) {
    return seen === pins.fingerprint
      ? { accepted: true }
      : {
          accepted: false,
          reason: `host key mismatch for ${target.address}: it presented ${seen}, host_key_fingerprints pins ${pins.fingerprint}`,
        };
  }
  const { keys, revoked } = knownHostKeys(pins.knownHosts ?? '', target.host, target.port);
  if (revoked.some((key) => key.equals(presented)))
    return {
      accepted: false,
      reason: `host key ${seen} of ${target.address} is marked @revoked in ${pins.knownHostsPath}`,
    };
  if (keys.some((key) => key.equals(presented))) return { accepted: true };
  if (!keys.length)
    return {
      accepted: false,
      reason: `no pinned host key for ${target.address}: add it to ${pins.knownHostsPath} (ssh-keyscan) or to host_key_fingerprints; it presented ${seen}`,
    };
  return {
    accepted: false,
    reason: `host key mismatch for ${target.address}: it presented ${seen}, ${pins.knownHostsPath} pins ${keys.map(fingerprintOf).join(', ')}`,
  };
}
