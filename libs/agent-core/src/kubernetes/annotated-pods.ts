import type { V1Pod } from '@kubernetes/client-node';
import { ScrapeTargetConfig } from '../app-metrics/scrape-config';

/**
 * The scrape target a pod asks for with the conventional annotations, or undefined: a Running pod with an
 * IP and `prometheus.io/scrape: "true"`; `prometheus.io/port` (else its first declared container port),
 * `prometheus.io/path` (default `/metrics`), `prometheus.io/scheme` (`http` or `https`). The job is
 * `<namespace>/<pod>`, and the namespace and pod are tags of its samples.
 */
export function scrapeTargetOfPod(pod: V1Pod): ScrapeTargetConfig | undefined {
  const annotations = pod.metadata?.annotations ?? {};
  const ip = pod.status?.podIP;
  if (annotations['prometheus.io/scrape'] !== 'true' || pod.status?.phase !== 'Running' || !ip)
    return undefined;
  const port =
    annotations['prometheus.io/port'] ??
    String(pod.spec?.containers.flatMap((c) => c.ports ?? [])[0]?.containerPort ?? '');
  if (!/^\d{1,5}$/.test(port)) return undefined;
  const path = annotations['prometheus.io/path'] ?? '/metrics';
  if (!path.startsWith('/') || /\s/.test(path)) return undefined;
  const scheme = annotations['prometheus.io/scheme'] === 'https' ? 'https' : 'http';
  const namespace = pod.metadata?.namespace ?? 'default';
  const name = pod.metadata?.name ?? ip;
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return Object.assign(new ScrapeTargetConfig(), {
    url: `${scheme}://${host}:${port}${path}`,
    job: `${namespace}/${name}`.slice(0, 80),
    labels: { namespace, pod: name },
  });
}
