import { MetricSample } from '@app/contracts';
import { Collector } from '../agent-type';
import { LambdaTelemetryAggregator } from './lambda-telemetry';

/** The telemetry received since the previous collection; the agent's extension session feeds it. */
export class LambdaTelemetryCollector implements Collector {
  readonly name = 'lambda.telemetry';
  readonly telemetry = new LambdaTelemetryAggregator();

  async collect(): Promise<MetricSample[]> {
    return this.telemetry.drain();
  }
}
