/**
 * Whether the URLs a command carries can be reached from where the command runs. A platform started with
 * its defaults advertises loopback URLs (`tls://127.0.0.1:4222`, `http://localhost:3000`): right for an agent
 * on the same host, unreachable from a container's own network namespace or a Kubernetes pod.
 */

/** Host names and addresses that mean "this machine". */
function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    bare === 'localhost' ||
    bare.endsWith('.localhost') ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare) ||
    bare === '::1' ||
    bare === '0.0.0.0' ||
    bare === '::'
  );
}

/** The loopback URLs among `urls` (each may be a comma-separated NATS server list). */
export function loopbackUrls(...urls: string[]): string[] {
  const found: string[] = [];
  for (const url of urls.flatMap((list) => list.split(',').map((u) => u.trim()))) {
    if (!url) continue;
    try {
      if (isLoopbackHost(new URL(url).hostname)) found.push(url);
    } catch {
      // Not a URL: config validation reports it elsewhere; nothing to say about reachability.
    }
  }
  return found;
}

/** The one instruction that fixes every loopback warning. */
export const SET_PUBLIC_URLS =
  'set PUBLIC_URL and AGENT_NATS_URL to addresses the agents can reach (e.g. https://rca.example.com:3443 and tls://rca.example.com:4222)';

/**
 * A warning when agents on other hosts would talk to the platform without TLS: an `http://` platform URL
 * or a `nats://` server that is not this machine. The enrollment token (and, over HTTP, every signed
 * agent request) would cross the network in clear. Loopback URLs are left to the loopback warning.
 */
export function cleartextWarnings(natsUrl: string, platformUrl: string): string[] {
  const loopback = new Set(loopbackUrls(natsUrl, platformUrl));
  const clear = [platformUrl, ...natsUrl.split(',').map((u) => u.trim())].filter((url) => {
    if (!url || loopback.has(url)) return false;
    try {
      const protocol = new URL(url).protocol;
      return protocol === 'http:' || protocol === 'nats:';
    } catch {
      return false;
    }
  });
  return clear.length
    ? [
        `The platform advertises ${clear.join(', ')} without TLS: the enrollment token and the agent's traffic would cross the network in clear. Set PUBLIC_URL to the HTTPS listener (e.g. https://rca.example.com:3443) and AGENT_NATS_URL to a tls:// URL.`,
      ]
    : [];
}
