import { IsIn, IsOptional, Matches, MaxLength } from 'class-validator';
import { ConfigFieldSchema } from '@app/contracts';
import { CommonAgentConfig, commonConfigSchema } from '../common-config';

/** unix:///path, tcp://host:port, http(s)://host:port or npipe:////./pipe/docker_engine (Windows). */
export const DOCKER_HOST_PATTERN =
  /^(unix:\/\/\/[^\s]+|tcp:\/\/[^\s/]+|https?:\/\/[^\s/]+|npipe:\/\/[^\s]+)$/;

const DOCKER_HOST_RULE = 'unix:///path, tcp://host:port, http(s)://host:port or npipe://…';

export class DockerAgentConfig extends CommonAgentConfig {
  /** Where the Docker Engine API listens; unset means DOCKER_HOST or /var/run/docker.sock. */
  @IsOptional()
  @MaxLength(500)
  @Matches(DOCKER_HOST_PATTERN, {
    message: `docker_host must be ${DOCKER_HOST_RULE}`,
  })
  docker_host?: string = undefined;

  /** `on`: scrape the running containers labelled prometheus.io/scrape=true (docs/agent.md). */
  @IsIn(['off', 'on'])
  scrape_containers: 'off' | 'on' = 'off';
}

export const dockerConfigSchema: ConfigFieldSchema[] = [
  ...commonConfigSchema,
  {
    name: 'docker_host',
    type: 'string',
    description:
      'Docker Engine API address (unix:///var/run/docker.sock, tcp://host:2375). Default: DOCKER_HOST, else /var/run/docker.sock.',
    required: false,
    pattern: DOCKER_HOST_PATTERN.source,
    patternDescription: DOCKER_HOST_RULE,
  },
  {
    name: 'scrape_containers',
    type: 'enum',
    description:
      '"on": scrape the Prometheus metrics of running containers labelled prometheus.io/scrape=true (port, path, scheme labels honoured).',
    required: false,
    default: 'off',
    enum: ['off', 'on'],
  },
];
