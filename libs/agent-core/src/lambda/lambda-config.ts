import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { ConfigFieldSchema } from '@app/contracts';
import { CommonAgentConfig, commonConfigSchema } from '../common-config';

/** Lambda's rule for a function name (the name, not an ARN): letters, digits, - and _, at most 64. */
export const FUNCTION_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const FUNCTION_NAME_RULE = 'a Lambda function name: letters, digits, - and _ (at most 64)';
/** AWS region names (eu-west-1, us-gov-west-1, ap-southeast-3). */
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const REGION_RULE = 'an AWS region name such as eu-west-1';
/** A published layer version, as publish-layer-version answers it (LayerVersionArn). */
export const LAYER_ARN_PATTERN =
  /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]{1,140}:\d{1,8}$/;
const LAYER_ARN_RULE = 'a layer version ARN (arn:aws:lambda:<region>:<account>:layer:<name>:<version>)';
/** Lambda's rule for a layer name. */
export const LAYER_NAME_PATTERN = /^[A-Za-z0-9_-]{1,140}$/;
const LAYER_NAME_RULE = 'letters, digits, - and _ (at most 140)';
/** host:port of the Runtime API, as Lambda sets AWS_LAMBDA_RUNTIME_API (127.0.0.1:9001). */
const RUNTIME_API = /^[A-Za-z0-9.-]{1,253}:\d{1,5}$/;

export class LambdaAgentConfig extends CommonAgentConfig {
  @Matches(FUNCTION_NAME_PATTERN, { message: `function_name must be ${FUNCTION_NAME_RULE}` })
  function_name: string = 'my-function';

  /** Unset: the AWS CLI's configured region (and, in the function, AWS_REGION). */
  @IsOptional()
  @Matches(REGION_PATTERN, { message: `region must be ${REGION_RULE}` })
  region?: string = undefined;

  /** Unset: the command publishes the gateway's layer first and uses the version it gets. */
  @IsOptional()
  @Matches(LAYER_ARN_PATTERN, { message: `layer_arn must be ${LAYER_ARN_RULE}` })
  layer_arn?: string = undefined;

  @Matches(LAYER_NAME_PATTERN, { message: `layer_name must be ${LAYER_NAME_RULE}` })
  layer_name: string = 'rca-agent';

  /** Port of the extension's Telemetry API listener inside the execution environment. */
  @IsInt()
  @Min(1024)
  @Max(65535)
  telemetry_port: number = 4243;

  /** Set by the layer's launcher from AWS_LAMBDA_RUNTIME_API; the agent refuses to start without it. */
  @IsOptional()
  @Matches(RUNTIME_API, { message: 'runtime_api must be host:port' })
  runtime_api?: string = undefined;
}

export const lambdaConfigSchema: ConfigFieldSchema[] = [
  ...commonConfigSchema,
  {
    name: 'function_name',
    type: 'string',
    description: 'The Lambda function to monitor (its name). The command adds the agent layer to it.',
    required: true,
    default: 'my-function',
    pattern: FUNCTION_NAME_PATTERN.source,
    patternDescription: FUNCTION_NAME_RULE,
  },
  {
    name: 'region',
    type: 'string',
    description: "AWS region of the function; empty: the AWS CLI's configured region.",
    required: false,
    pattern: REGION_PATTERN.source,
    patternDescription: REGION_RULE,
  },
  {
    name: 'layer_arn',
    type: 'string',
    description:
      'The agent layer, if you already published it (a layer version ARN). Empty: the command downloads the layer from this platform, checks its SHA-256 and publishes it first (lambda:PublishLayerVersion).',
    required: false,
    pattern: LAYER_ARN_PATTERN.source,
    patternDescription: LAYER_ARN_RULE,
  },
  {
    name: 'layer_name',
    type: 'string',
    description: 'Name the layer is published under when layer_arn is empty.',
    required: false,
    default: 'rca-agent',
    pattern: LAYER_NAME_PATTERN.source,
    patternDescription: LAYER_NAME_RULE,
  },
  {
    name: 'telemetry_port',
    type: 'integer',
    description:
      "Port the agent listens on inside the function's execution environment for the Telemetry API. Change it only if the function or another extension uses 4243.",
    required: false,
    default: 4243,
    minimum: 1024,
    maximum: 65535,
  },
  {
    name: 'runtime_api',
    type: 'string',
    description:
      "Set by the layer's launcher from AWS_LAMBDA_RUNTIME_API inside the function; leave it empty.",
    required: false,
    pattern: RUNTIME_API.source,
    patternDescription: 'host:port',
  },
];
