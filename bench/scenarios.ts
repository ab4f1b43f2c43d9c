import { Scenario } from './lib/harness';
import { natsCeiling } from './nats-ceiling';
import { dbCeiling } from './db-ceiling';
import { controlPlane } from './control-plane';
import { fleetScale } from './fleet-scale';
import { configPush } from './config-push';
import { fleetOverview } from './fleet-overview';
import { metricsLag } from './metrics-lag';
import { ingestionSoak } from './ingestion-soak';
import { agentFootprint, ingestionHeartbeats, ingestionMetrics } from './external-scenarios';

/** Every scenario, in the order `npm run bench` runs them (baselines first). */
export const SCENARIOS: Scenario[] = [
  natsCeiling,
  dbCeiling,
  ingestionHeartbeats,
  ingestionMetrics,
  metricsLag,
  controlPlane,
  fleetScale,
  configPush,
  fleetOverview,
  agentFootprint,
  ingestionSoak,
];
