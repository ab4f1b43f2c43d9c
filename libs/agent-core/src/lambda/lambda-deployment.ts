import { Deployment, DeploymentInput } from '../agent-type';
import { loopbackUrls, SET_PUBLIC_URLS } from '../deployment/reachability';
import { quotePosix } from '../deployment/shell-quoting';
import { LambdaAgentConfig } from './lambda-config';

/** The layer file the gateway serves (npm run build:agent writes it beside the bundle). */
export const LAYER_DOWNLOAD = 'downloads/rca-agent-lambda-layer.zip';
/** The launcher runs the bundle with the function runtime's Node.js: these runtimes have one. */
export const COMPATIBLE_RUNTIMES = ['nodejs20.x', 'nodejs22.x'];
const STATE_DIR = '/tmp/rca-agent';
const DEFAULT_TELEMETRY_PORT = 4243;

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/** The function's environment variables the agent needs, as `--environment` reads them. */
export function lambdaEnvironment(input: DeploymentInput<LambdaAgentConfig>): {
  Variables: Record<string, string>;
} {
  const { config } = input;
  return {
    Variables: {
      RCA_TOKEN: input.enrollmentToken,
      RCA_NATS_URL: input.natsUrl,
      RCA_PLATFORM_URL: input.platformUrl,
      RCA_AGENT_TYPE: 'lambda',
      RCA_LOG_LEVEL: config.log_level,
      // The only writable place in an execution environment; it lives as long as the environment.
      RCA_STATE_DIR: STATE_DIR,
      ...(config.telemetry_port !== DEFAULT_TELEMETRY_PORT
        ? { RCA_TELEMETRY_PORT: String(config.telemetry_port) }
        : {}),
      ...(input.caPin ? { RCA_CA_PIN: input.caPin } : {}),
    },
  };
}

/**
 * A JMESPath query answering "<other variables> <other layers>": update-function-configuration
 * replaces both lists, so the command goes on only when the function has no variable but RCA_* and
 * no layer but this one's versions, and otherwise stops and says how to merge by hand.
 */
const guardQuery = (layerName: string) =>
  `[length(keys(Environment.Variables || \`{}\`)[?!starts_with(@, 'RCA_')]), length(Layers[?!contains(Arn, ':layer:${layerName}:')] || \`[]\`)]`;

/**
 * One pasted `sh` command: writes the environment to a temporary file (printf is a builtin, so the
 * token is in no process's arguments), checks that updating cannot drop the function's own variables
 * or layers, publishes the gateway's layer (SHA-256 pinned here) unless a layer ARN is given, and
 * attaches it with update-function-configuration.
 */
export function buildLambdaDeployment(input: DeploymentInput<LambdaAgentConfig>): Deployment {
  const { config } = input;
  const region = config.region ? ` --region ${quotePosix(config.region)}` : '';
  const fn = quotePosix(config.function_name);
  const layerUrl = `${trimSlash(input.platformUrl)}/${LAYER_DOWNLOAD}`;
  const layerPin = input.artifacts?.lambdaLayer?.sha256;
  const steps = [
    `d=$(mktemp -d) && trap 'rm -rf "$d"' EXIT`,
    `printf '%s\\n' ${quotePosix(JSON.stringify(lambdaEnvironment(input)))} > "$d/environment.json"`,
    `other=$(aws lambda get-function-configuration --function-name ${fn}${region} --query ${quotePosix(guardQuery(config.layer_name))} --output text)`,
    `{ [ "$(echo $other)" = '0 0' ] || { echo "rca: ${config.function_name} has environment variables or layers of its own (other variables, other layers: $other); update-function-configuration would remove them. Add them to $d/environment.json and --layers by hand (see the instructions)." >&2; false; }; }`,
  ];
  if (config.layer_arn) {
    steps.push(`layer=${quotePosix(config.layer_arn)}`);
  } else {
    steps.push(`curl -fsSL ${quotePosix(layerUrl)} -o "$d/layer.zip"`);
    if (layerPin)
      steps.push(
        `{ (sha256sum "$d/layer.zip" 2>/dev/null || shasum -a 256 "$d/layer.zip") | grep -q '^${layerPin} ' || { echo 'rca: the downloaded layer does not match its SHA-256: not publishing it' >&2; false; }; }`,
      );
    steps.push(
      `layer=$(aws lambda publish-layer-version --layer-name ${quotePosix(config.layer_name)} --zip-file "fileb://$d/layer.zip" --compatible-runtimes ${COMPATIBLE_RUNTIMES.join(' ')}${region} --query LayerVersionArn --output text)`,
    );
  }
  steps.push(
    `aws lambda update-function-configuration --function-name ${fn} --layers "$layer" --environment "file://$d/environment.json"${region} --query LastUpdateStatus --output text`,
  );
  const loopback = loopbackUrls(input.natsUrl, input.platformUrl);
  const warnings = [
    ...(loopback.length
      ? [
          `The platform advertises loopback URLs (${loopback.join(', ')}): a Lambda function cannot reach them. ${SET_PUBLIC_URLS[0].toUpperCase()}${SET_PUBLIC_URLS.slice(1)}.`,
        ]
      : []),
    ...(!config.layer_arn && !layerPin
      ? [
          'This platform has no agent build (npm run build:agent), so it serves no layer and the command cannot pin its SHA-256: build it first, or give layer_arn.',
        ]
      : []),
  ];
  return {
    warnings,
    commands: [{ platform: 'any', shell: 'sh', command: `(${steps.join(' && ')})` }],
    instructions: [
      `Use a shell with the AWS CLI signed in as someone allowed lambda:GetFunctionConfiguration and lambda:UpdateFunctionConfiguration on "${config.function_name}"${config.layer_arn ? '' : ' and lambda:PublishLayerVersion'}. The function must run on ${COMPATIBLE_RUNTIMES.join(' or ')}: the layer's launcher runs the agent with the runtime's Node.js.`,
      config.layer_arn
        ? `Paste the command: it attaches the layer ${config.layer_arn} to the function and sets the agent's environment variables.`
        : `Paste the command: it downloads the agent layer from this platform, checks its SHA-256, publishes it as the layer "${config.layer_name}", then attaches it to the function and sets the agent's environment variables. Publish once and give layer_arn for your other functions.`,
      `update-function-configuration replaces the function's layers and environment variables, so the command first checks the function has none but the agent's and stops otherwise. Then add the function's own: aws lambda get-function-configuration --function-name ${fn} --query '[Layers[].Arn, Environment.Variables]', and run update-function-configuration with all layers and variables.`,
      "Know what the agent sees: the platform telemetry of its own execution environment (invocations, errors, timeouts, durations, billed duration, max memory, init duration). Lambda freezes the environment between invocations, so the agent reports (and heartbeats) only while the function is invoked and goes offline when idle; each new execution environment enrolls as its own agent, so give the token enough uses. Nothing is read from the function's logs.",
      `The enrollment token is an environment variable of the function: whoever may read its configuration can read it. Within a minute of the next invocation the function appears as an agent in environment "${input.environment}".`,
      `To remove it later: aws lambda update-function-configuration --function-name ${fn} --layers with the function's other layers (or none) and --environment without the RCA_ variables.`,
    ],
  };
}
