import type { ContainerInfo } from 'dockerode';
import { ScrapeTargetConfig } from '../app-metrics/scrape-config';

/**
 * The scrape target a container asks for with the conventional labels, or undefined: a running container
 * with an IP on one of its networks and `prometheus.io/scrape=true`; `prometheus.io/port` (else its first
 * exposed port), `prometheus.io/path` (default `/metrics`), `prometheus.io/scheme` (`http` or `https`).
 * The job is the container's name, which is also the `container` tag of its samples.
 */
export function scrapeTargetOfContainer(container: ContainerInfo): ScrapeTargetConfig | undefined {
  const labels = container.Labels ?? {};
  if (labels['prometheus.io/scrape'] !== 'true' || container.State !== 'running') return undefined;
  const ip = Object.values(container.NetworkSettings?.Networks ?? {})
    .map((n) => n.IPAddress)
    .find(Boolean);
  if (!ip) return undefined;
  const port = labels['prometheus.io/port'] ?? String(container.Ports?.[0]?.PrivatePort ?? '');
  if (!/^\d{1,5}$/.test(port)) return undefined;
  const path = labels['prometheus.io/path'] ?? '/metrics';
  if (!path.startsWith('/') || /\s/.test(path)) return undefined;
  const scheme = labels['prometheus.io/scheme'] === 'https' ? 'https' : 'http';
  const name = (container.Names?.[0] ?? container.Id.slice(0, 12)).replace(/^\//, '');
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return Object.assign(new ScrapeTargetConfig(), {
    url: `${scheme}://${host}:${port}${path}`,
    job: name.replace(/[^A-Za-z0-9_.:/-]/g, '_').slice(0, 80),
    labels: { container: name },
  });
}
