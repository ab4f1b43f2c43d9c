import { AgentTypeDefinition } from '../agent-type';
import { LambdaAgent } from './lambda-agent';
import { LambdaAgentConfig, lambdaConfigSchema } from './lambda-config';
import { LambdaTelemetryCollector } from './lambda-collectors';
import { buildLambdaDeployment } from './lambda-deployment';
import { LambdaExtensionSession } from './lambda-extension-session';
import { lambdaMetrics } from './lambda-metrics';

// No lazy load: the Extensions and Telemetry APIs are plain HTTP through Node's own fetch and http.
export const lambdaAgentType: AgentTypeDefinition<LambdaAgentConfig> = {
  type: 'lambda',
  displayName: 'AWS Lambda function',
  description:
    "A Lambda function, with the agent as a Lambda extension in a layer (aws lambda update-function-configuration): invocations, errors, timeouts, duration, billed duration, max memory used and init duration per function from the Telemetry API's platform events. Each execution environment is its own agent and sees only its own invocations; Lambda freezes it between invocations, so the agent reports only while the function is invoked. No CPU usage (Lambda reports none), no logs. Node.js runtimes (nodejs20.x, nodejs22.x) only.",
  platforms: ['any'],
  configClass: LambdaAgentConfig,
  configSchema: lambdaConfigSchema,
  metrics: lambdaMetrics,
  buildDeployment: buildLambdaDeployment,
  createCollectors: () => [new LambdaTelemetryCollector()],
  createAgent: (options, config) => {
    const collector = options.collectors.find(
      (c): c is LambdaTelemetryCollector => c instanceof LambdaTelemetryCollector,
    );
    const session =
      config.runtime_api && collector
        ? new LambdaExtensionSession(
            { runtimeApi: config.runtime_api, port: config.telemetry_port },
            collector.telemetry,
            options.logger,
          )
        : undefined;
    return new LambdaAgent(options, session, config.region);
  },
};
