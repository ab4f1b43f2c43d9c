import { DeclaredMetric } from '../agent-type';

/**
 * Every metric the Lambda agent reports, from the Telemetry API's platform events of its own execution
 * environment (tags function_name, function_version). Lambda freezes the environment between invocations
 * and runs one environment per concurrent request, so each agent sees only the invocations its
 * environment served: sum over the function's hosts for the function's totals. Nothing is read from the
 * function's logs, and nothing of other environments or of the function's configuration is measured.
 */
export const lambdaMetrics: DeclaredMetric[] = [
  {
    name: 'lambda.invocations',
    unit: '1',
    description: 'Invocations that ended since the previous collection (one platform.report each).',
  },
  {
    name: 'lambda.errors',
    unit: '1',
    description:
      'Of those, invocations that ended with status error (the handler threw or returned an error) or failure (the runtime crashed).',
  },
  {
    name: 'lambda.timeouts',
    unit: '1',
    description: 'Of those, invocations stopped at the function timeout (status timeout).',
  },
  {
    name: 'lambda.duration.avg',
    unit: 'ms',
    description: 'Average invocation duration (platform.report durationMs); absent when no invocation ended.',
  },
  {
    name: 'lambda.duration.max',
    unit: 'ms',
    description: 'Longest invocation duration in the interval; absent when no invocation ended.',
  },
  {
    name: 'lambda.billed_duration',
    unit: 'ms',
    description:
      'Billed duration of the invocations in the interval, summed (billedDurationMs); absent when none ended.',
  },
  {
    name: 'lambda.memory.max_used',
    unit: 'By',
    description:
      "Highest memory the environment used during the interval's invocations (maxMemoryUsedMB); absent when none ended.",
  },
  {
    name: 'lambda.memory.size',
    unit: 'By',
    description: "The function's configured memory (memorySizeMB); absent when no invocation ended.",
  },
  {
    name: 'lambda.init.duration',
    unit: 'ms',
    description:
      'Duration of the init phase of this environment (platform.initReport durationMs), reported once in the interval it arrived; tag init_type (on-demand, provisioned-concurrency, snap-start).',
  },
  {
    name: 'lambda.init.errors',
    unit: '1',
    description:
      'Init phases that did not succeed (platform.initReport status error, failure or timeout); reported with lambda.init.duration.',
  },
];
