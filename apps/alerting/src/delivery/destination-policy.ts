import { BlockList, isIP } from 'node:net';

/**
 * Networks a webhook may not reach unless an operator allows them: loopback, private, link-local
 * (cloud metadata at 169.254.169.254), shared/CGNAT, benchmark, multicast and reserved ranges, and
 * IPv6 prefixes that embed an IPv4 address (IPv4-compatible, NAT64, 6to4, Teredo).
 * A tenant's webhook URL is untrusted input; without this, alerting would POST into the
 * platform's own network on the tenant's behalf (SSRF).
 */
const BLOCKED: [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  // ::/96 holds :: and ::1 and the deprecated IPv4-compatible addresses (::10.0.0.1 is 10.0.0.1 to some stacks).
  ['::', 96, 'ipv6'],
  // Addresses that carry an IPv4 address a gateway translates or tunnels to: NAT64 (well-known and
  // local-use prefixes), 6to4 and Teredo. Any of them can reach a private IPv4 host.
  ['64:ff9b::', 96, 'ipv6'],
  ['64:ff9b:1::', 48, 'ipv6'],
  ['2002::', 16, 'ipv6'],
  ['2001::', 32, 'ipv6'],
  // Discard-only and documentation prefixes: never a real receiver.
  ['100::', 64, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

/** Parses `10.1.0.0/16,fd00::/8` into [address, prefix, family]; throws naming the bad entry. */
export function parseCidrList(text: string): [string, number, 'ipv4' | 'ipv6'][] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const [address, prefixText, extra] = entry.split('/');
      const version = isIP(address ?? '');
      const prefix = Number(prefixText);
      const max = version === 6 ? 128 : 32;
      if (!version || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > max)
        throw new Error(`"${entry}" is not a network in CIDR notation (e.g. 10.0.0.0/8)`);
      return [address, prefix, version === 6 ? 'ipv6' : 'ipv4'];
    });
}

/** Decides which addresses a webhook delivery may connect to. */
export class DestinationPolicy {
  private readonly blocked = new BlockList();
  private readonly allowed = new BlockList();

  /** `allowedCidrs`: networks exempted from the block (an internal receiver, a local test). */
  constructor(allowedCidrs = '') {
    for (const [address, prefix, family] of BLOCKED) this.blocked.addSubnet(address, prefix, family);
    for (const [address, prefix, family] of parseCidrList(allowedCidrs))
      this.allowed.addSubnet(address, prefix, family);
  }

  /** Why `address` may not be reached, or undefined when it may. */
  refusal(address: string): string | undefined {
    const version = isIP(address);
    if (!version) return `${address} is not an IP address`;
    // An IPv4-mapped IPv6 address (::ffff:10.0.0.1) reaches the IPv4 host: judge that one.
    const mapped = version === 6 ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] : undefined;
    const ip = mapped ?? address;
    const family = mapped || version === 4 ? 'ipv4' : 'ipv6';
    if (this.allowed.check(ip, family)) return undefined;
    if (this.blocked.check(ip, family))
      return `${address} is a private, loopback or reserved address (allow it with ALERT_WEBHOOK_ALLOWED_CIDRS)`;
    return undefined;
  }

  /** For a URL whose host is an IP literal, the refusal; names are judged when resolved. */
  refusalForUrl(url: string): string | undefined {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return isIP(host) ? this.refusal(host) : undefined;
  }
}
