import { INestMicroservice } from '@nestjs/common';
import { bootstrapNatsService, busSettings } from '@app/messaging';
import { Clock } from '@app/clock';
import { ProvisioningConfig } from './config';
import { ProvisioningModule } from './provisioning.module';

/** Queue group: several provisioning instances share the requests. */
export const PROVISIONING_QUEUE = 'provisioning';

/** Builds and starts one provisioning instance; `main.ts` and the tests use the same path. */
export function startProvisioning(
  config: ProvisioningConfig,
  options: { clock?: Clock } = {},
): Promise<INestMicroservice> {
  return bootstrapNatsService(
    ProvisioningModule.forRoot(config, options),
    busSettings(config, 'provisioning'),
    PROVISIONING_QUEUE,
  );
}
