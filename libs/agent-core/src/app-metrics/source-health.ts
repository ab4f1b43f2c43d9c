import { SourceHealth } from '@app/contracts';

/** The heartbeat's bound on a source's error text. */
const MAX_ERROR_LENGTH = 500;

/**
 * A source's health after one run: `up` unless the run failed (`failed`); `problem` is the failure, or
 * what a run that succeeded dropped (series past the limit, skipped lines).
 */
export function runHealth(
  name: string,
  run: { startedAt: number; endedAt: number; failed: boolean; problem?: string; series: number },
): SourceHealth {
  return {
    name,
    up: !run.failed,
    ...(run.problem ? { lastError: run.problem.slice(0, MAX_ERROR_LENGTH) } : {}),
    lastDurationMs: Math.max(0, run.endedAt - run.startedAt),
    series: run.failed ? 0 : run.series,
    lastRunAt: run.startedAt,
  };
}
