import { Logger } from '@nestjs/common';
import { createAccount, createOperator, KeyPair } from 'nkeys.js';
import { BusAuthority } from '@app/nats-auth';

/**
 * The keys the token service signs with: the AGENTS account's signing key (agent user JWTs) and the
 * operator's signing key (the AGENTS account JWT with its revocation list), from the bus key directory
 * (`NATS_AUTH_DIR`). Without one — an unsecured development bus — throwaway keys sign JWTs nobody
 * checks and revocations are not pushed anywhere; the service says so once at start.
 */
export class BusSigningKeys {
  private constructor(
    readonly agentsAccount: string,
    readonly platformAccount: string,
    readonly agentsSigningKey: KeyPair,
    readonly operatorSigningKey: KeyPair,
    /** The SYS-account creds that may push account updates; undefined on an unsecured bus. */
    readonly systemCredsFile: string | undefined,
  ) {}

  get secured(): boolean {
    return this.systemCredsFile !== undefined;
  }

  static load(authDir: string | undefined): BusSigningKeys {
    if (!authDir) {
      new Logger(BusSigningKeys.name).warn(
        'NATS_AUTH_DIR is not set: agent JWTs are signed with a throwaway key and revocations are not pushed to NATS. ' +
          'Use this only with an unsecured development NATS server.',
      );
      return new BusSigningKeys(
        createAccount().getPublicKey(),
        createAccount().getPublicKey(),
        createAccount(),
        createOperator(),
        undefined,
      );
    }
    const authority = BusAuthority.open(authDir);
    const keys = authority.accountKeys();
    return new BusSigningKeys(
      keys.agents,
      keys.platform,
      authority.seed('agents-signing'),
      authority.seed('operator-signing'),
      authority.paths.creds('system'),
    );
  }
}
