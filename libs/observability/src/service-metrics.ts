import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * Base of each service's Prometheus metrics: a registry per instance (tests run several services in
 * one process, where the global registry would collide), plus Node's default metrics when served.
 * Subclasses declare their counters with `registers: [this.registry]`.
 */
/**
 * prom-client's default gauges that end in `_total`, which `promtool check metrics` flags (a `_total`
 * suffix promises a counter). Each is the sum of a labelled gauge it also exports
 * (`nodejs_active_handles{type}` …), so dropping them loses nothing: `sum(nodejs_active_handles)`.
 */
const MISNAMED_DEFAULT_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export abstract class ServiceMetrics {
  readonly registry = new Registry();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (!options.defaultMetrics) return;
    collectDefaultMetrics({ register: this.registry });
    for (const name of MISNAMED_DEFAULT_GAUGES) this.registry.removeSingleMetric(name);
  }
}
