import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * Base of each service's Prometheus metrics: a registry per instance (tests run several services in
 * one process, where the global registry would collide), plus Node's default metrics when served.
 * Subclasses declare their counters with `registers: [this.registry]`.
 */
export abstract class ServiceMetrics {
  readonly registry = new Registry();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
