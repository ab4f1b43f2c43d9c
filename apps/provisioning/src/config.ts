import { CommonConfig } from '@app/config';

/** Environment variables read by the provisioning service. */
export class ProvisioningConfig extends CommonConfig {}
