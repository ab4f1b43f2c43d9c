import { ComponentHealth, Heartbeat, HealthReason } from '@app/contracts';

/** What one heartbeat says about its agent: `stopping` wins over anything else, any reason makes it degraded. */
export type ReportedState = 'ok' | 'degraded' | 'stopping';

export interface HeartbeatHealth {
  state: ReportedState;
  reasons: HealthReason[];
  components: ComponentHealth[];
}

export interface HealthThresholds {
  /** Degraded from this buffer fill (0–1) up. */
  bufferFillFraction: number;
  /** Degraded when the agent's clock is off the platform's by more than this. */
  clockSkewSeconds: number;
}

/**
 * The health rules, a pure function of one heartbeat. `receivedAt` is the platform's clock;
 * `previousDropped` the drop count this instance saw in the agent's previous heartbeat, if any
 * (the count is cumulative since the agent started, so only a rise means it is dropping now).
 */
export function assessHeartbeat(
  heartbeat: Heartbeat,
  receivedAt: number,
  previousDropped: number | undefined,
  thresholds: HealthThresholds,
): HeartbeatHealth {
  const reasons: HealthReason[] = [];
  const components: ComponentHealth[] = [];

  const collection = heartbeat.lastCollection;
  if (collection) {
    for (const { collector, error } of collection.errors) {
      const component = `collector:${collector}`;
      reasons.push({ kind: 'collector_errors', component, message: `${collector}: ${error}` });
      components.push({ component, ok: false, detail: error });
    }
    if (!collection.errors.length)
      components.push({
        component: 'collectors',
        ok: true,
        detail: `${collection.samples} samples in ${Math.round(collection.durationMs)} ms`,
      });
  }

  if (heartbeat.bufferFill !== undefined && heartbeat.bufferFill !== null) {
    const percent = Math.round(heartbeat.bufferFill * 100);
    const filling = heartbeat.bufferFill >= thresholds.bufferFillFraction;
    const detail = `${heartbeat.buffered} batches waiting, ${percent}% full`;
    if (filling) reasons.push({ kind: 'buffer_filling', component: 'buffer', message: `buffer ${detail}` });
    components.push({ component: 'buffer', ok: !filling, detail });
  }

  const newlyDropped = previousDropped === undefined ? 0 : heartbeat.dropped - previousDropped;
  const dropping = newlyDropped > 0;
  if (dropping)
    reasons.push({
      kind: 'samples_dropped',
      component: 'delivery',
      message: `${newlyDropped} metric batches dropped since the previous heartbeat (buffer full)`,
    });
  components.push({
    component: 'delivery',
    ok: !dropping,
    detail: `${heartbeat.dropped} batches dropped since the agent started`,
  });

  const skewMs = heartbeat.sentAt - receivedAt;
  const skewed = Math.abs(skewMs) > thresholds.clockSkewSeconds * 1000;
  const skewText = `agent clock ${(Math.abs(skewMs) / 1000).toFixed(1)} s ${skewMs >= 0 ? 'ahead' : 'behind'}`;
  if (skewed)
    reasons.push({
      kind: 'clock_skew',
      component: 'clock',
      message: `${skewText} (more than ${thresholds.clockSkewSeconds} s)`,
    });
  components.push({ component: 'clock', ok: !skewed, detail: skewText });

  const state: ReportedState =
    heartbeat.state === 'stopping' ? 'stopping' : reasons.length ? 'degraded' : 'ok';
  return { state, reasons, components };
}
