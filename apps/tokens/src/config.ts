import { CommonConfig } from '@app/config';

/** Environment variables read by the tokens service. */
export class TokensConfig extends CommonConfig {}
