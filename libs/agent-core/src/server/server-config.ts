import { ConfigFieldSchema } from '@app/contracts';
import { CommonAgentConfig, commonConfigSchema } from '../common-config';

/** A server agent needs nothing beyond the common keys: it reads the host it runs on. */
export class ServerAgentConfig extends CommonAgentConfig {}

export const serverConfigSchema: ConfigFieldSchema[] = [...commonConfigSchema];
