import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { NatsConnection } from 'nats';
import { ConflictError } from '@app/contracts';
import { ensureEventsStream, NATS_CONNECTION } from '@app/messaging';
import { TokensConfig } from '../config';
import { OrganizationsService } from '../organizations/organizations.service';

/** Where the generated bootstrap key is shown: stdout in production, captured in tests. */
export const BOOTSTRAP_OUTPUT = Symbol('BOOTSTRAP_OUTPUT');
export type BootstrapOutput = (line: string) => void;
export const stdoutBootstrapOutput: BootstrapOutput = (line) => process.stdout.write(`${line}\n`);

export const DEFAULT_ORGANIZATION = 'default';

/**
 * Start-up work before the service answers: the EVENTS stream exists, and an empty database
 * gets the `default` organisation with its first API key. Safe with several instances
 * starting at once: the organisation name is unique, the loser sees a conflict and moves on.
 */
@Injectable()
export class BootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Bootstrap');

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly organizations: OrganizationsService,
    private readonly config: TokensConfig,
    @Inject(BOOTSTRAP_OUTPUT) private readonly output: BootstrapOutput,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await ensureEventsStream(await this.nc.jetstreamManager(), {
      replicas: this.config.EVENTS_STREAM_REPLICAS,
    });
    await this.ensureDefaultOrganization();
  }

  async ensureDefaultOrganization(): Promise<void> {
    if ((await this.organizations.count()) > 0) return;
    const given = this.config.BOOTSTRAP_API_KEY;
    try {
      const created = await this.organizations.create(DEFAULT_ORGANIZATION, given, 'bootstrap');
      if (given) {
        this.logger.log(
          `created organization "${DEFAULT_ORGANIZATION}" with the API key from BOOTSTRAP_API_KEY`,
        );
      } else {
        this.logger.log(
          `created organization "${DEFAULT_ORGANIZATION}"; its API key is printed once on stdout`,
        );
        this.output(`Bootstrap API key (shown once): ${created.apiKey.secret}`);
      }
    } catch (error) {
      // Another instance bootstrapped the same empty database a moment earlier.
      if (!(error instanceof ConflictError)) throw error;
      this.logger.log(`organization "${DEFAULT_ORGANIZATION}" was created by another instance`);
    }
  }
}
