import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fmtCreds } from 'nats-jwt';
import { createAccount, createOperator, createUser, fromPublic, fromSeed, KeyPair } from 'nkeys.js';
import {
  agentsAccountJwt,
  DEFAULT_PLATFORM_JETSTREAM,
  operatorJwt,
  platformAccountJwt,
  PlatformJetStreamLimits,
  signUserJwt,
  systemAccountJwt,
  userClaims,
} from './account-claims';
import { BusPermissions, PLATFORM_IDENTITIES, PlatformPermissions, withInbox } from './bus-permissions';
import {
  certificateHosts,
  certificatePin,
  createCertificateAuthority,
  issueServerCertificate,
} from './platform-ca';

/**
 * The bus's keys, in one directory (mode 0700, every secret 0600):
 *
 *   accounts.json                 public keys of the operator, the accounts and the agents' signing key
 *   operator.jwt                  what nats-server trusts (`operator:`)
 *   accounts/{SYS,PLATFORM,AGENTS}.jwt   account JWTs to preload into the server's resolver
 *   keys/*.nk                     nkey seeds: operator, operator signing key, accounts, agents' signing key
 *   creds/<identity>.creds        one NATS credentials file per platform process (standard .creds)
 *   tls/ca.pem, ca-key.pem        the platform CA; tls/server.pem, server-key.pem its listener certificate
 *
 * Everything is standard NATS material (nsc reads the same JWTs, seeds and .creds), so an operator can
 * load it into any nats-server or cluster. Generated once; later calls only refresh what is derived
 * from the code (creds from the permission table, the PLATFORM and SYS account JWTs, the server certificate).
 */
export interface AccountKeys {
  operator: string;
  system: string;
  platform: string;
  agents: string;
  agentsSigningKey: string;
}

const SECRET = 0o600;

function writeSecret(file: string, content: string | Uint8Array): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, content, { mode: SECRET });
  chmodSync(temp, SECRET);
  renameSync(temp, file);
}

function writePublic(file: string, content: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, content, { mode: 0o644 });
  renameSync(temp, file);
}

export class BusAuthority {
  private constructor(readonly dir: string) {}

  /** Paths of the directory's files. */
  get paths() {
    const d = this.dir;
    return {
      accounts: join(d, 'accounts.json'),
      operatorJwt: join(d, 'operator.jwt'),
      accountJwt: (name: 'SYS' | 'PLATFORM' | 'AGENTS') => join(d, 'accounts', `${name}.jwt`),
      seed: (name: string) => join(d, 'keys', `${name}.nk`),
      creds: (identity: string) => join(d, 'creds', `${identity}.creds`),
      caCertificate: join(d, 'tls', 'ca.pem'),
      caKey: join(d, 'tls', 'ca-key.pem'),
      serverCertificate: join(d, 'tls', 'server.pem'),
      serverKey: join(d, 'tls', 'server-key.pem'),
    };
  }

  static exists(dir: string): boolean {
    return existsSync(join(dir, 'accounts.json'));
  }

  /** Opens a directory made by `ensure` (or `npm run admin -- nats-auth init`). */
  static open(dir: string): BusAuthority {
    const authority = new BusAuthority(dir);
    if (!BusAuthority.exists(dir)) {
      throw new Error(
        `${dir} holds no bus keys (accounts.json is missing): run "npm run admin -- nats-auth init"`,
      );
    }
    return authority;
  }

  /**
   * Creates the keys when the directory is new, then refreshes what is derived: account JWTs of SYS
   * and PLATFORM, every platform identity's creds, and a server certificate covering `tlsHosts`.
   * The AGENTS account JWT is written only when missing: afterwards the token service owns it
   * (it carries the revocations).
   */
  static async ensure(
    dir: string,
    options: { tlsHosts?: string[]; jetstream?: PlatformJetStreamLimits } = {},
  ): Promise<BusAuthority> {
    for (const sub of ['', 'keys', 'creds', 'accounts', 'tls'])
      mkdirSync(join(dir, sub), { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    const authority = new BusAuthority(dir);
    if (!BusAuthority.exists(dir)) await authority.generateKeys();
    await authority.refresh(options.jetstream ?? DEFAULT_PLATFORM_JETSTREAM);
    await authority.ensureTls(options.tlsHosts ?? []);
    return authority;
  }

  accountKeys(): AccountKeys {
    return JSON.parse(readFileSync(this.paths.accounts, 'utf8')) as AccountKeys;
  }

  seed(name: string): KeyPair {
    return fromSeed(Buffer.from(readFileSync(this.paths.seed(name), 'utf8').trim()));
  }

  operatorJwt(): string {
    return readFileSync(this.paths.operatorJwt, 'utf8').trim();
  }

  accountJwt(name: 'SYS' | 'PLATFORM' | 'AGENTS'): string {
    return readFileSync(this.paths.accountJwt(name), 'utf8').trim();
  }

  caPin(): string {
    return certificatePin(readFileSync(this.paths.caCertificate, 'utf8'));
  }

  /** Writes `.creds` for a PLATFORM user with these permissions; returns its path. */
  async writePlatformCreds(identity: string, permissions: BusPermissions): Promise<string> {
    const file = this.paths.creds(identity);
    writeSecret(file, await this.platformCreds(identity, permissions));
    return file;
  }

  /** The text of a `.creds` file for a PLATFORM user (a new user key each time). */
  async platformCreds(identity: string, permissions: BusPermissions): Promise<Uint8Array> {
    const user = createUser();
    const jwt = await signUserJwt({
      name: identity,
      user,
      account: this.seed('platform'),
      claims: userClaims(withInbox(identity, permissions)),
    });
    return fmtCreds(jwt, user);
  }

  private async generateKeys(): Promise<void> {
    const operator = createOperator();
    const operatorSigning = createOperator();
    const system = createAccount();
    const platform = createAccount();
    const agents = createAccount();
    const agentsSigning = createAccount();
    const seeds: [string, KeyPair][] = [
      ['operator', operator],
      ['operator-signing', operatorSigning],
      ['system', system],
      ['platform', platform],
      ['agents', agents],
      ['agents-signing', agentsSigning],
    ];
    for (const [name, kp] of seeds) writeSecret(this.paths.seed(name), Buffer.from(kp.getSeed()).toString());
    writePublic(this.paths.operatorJwt, await operatorJwt(operator, operatorSigning, system.getPublicKey()));
    writePublic(
      this.paths.accountJwt('AGENTS'),
      await agentsAccountJwt(agents.getPublicKey(), operatorSigning, {
        platformAccount: platform.getPublicKey(),
        signingKey: agentsSigning.getPublicKey(),
        revocations: {},
      }),
    );
    const keys: AccountKeys = {
      operator: operator.getPublicKey(),
      system: system.getPublicKey(),
      platform: platform.getPublicKey(),
      agents: agents.getPublicKey(),
      agentsSigningKey: agentsSigning.getPublicKey(),
    };
    // Last: its presence marks the directory complete.
    writePublic(this.paths.accounts, JSON.stringify(keys, null, 2));
  }

  private async refresh(jetstream: PlatformJetStreamLimits): Promise<void> {
    const keys = this.accountKeys();
    const operatorSigning = this.seed('operator-signing');
    writePublic(this.paths.accountJwt('SYS'), await systemAccountJwt(keys.system, operatorSigning));
    writePublic(
      this.paths.accountJwt('PLATFORM'),
      await platformAccountJwt(keys.platform, operatorSigning, jetstream),
    );
    for (const identity of PLATFORM_IDENTITIES)
      await this.writePlatformCreds(identity, PlatformPermissions[identity]);
    // The token service's link to the system account, to push AGENTS account updates.
    const sysUser = createUser();
    const sysJwt = await signUserJwt({
      name: 'account-updates',
      user: sysUser,
      account: this.seed('system'),
      claims: userClaims({
        publish: ['$SYS.REQ.CLAIMS.UPDATE', `$SYS.REQ.ACCOUNT.${keys.agents}.CLAIMS.UPDATE`],
        subscribe: ['_INBOX_account-updates.>'],
        respond: false,
      }),
    });
    writeSecret(this.paths.creds('system'), fmtCreds(sysJwt, sysUser));
  }

  private async ensureTls(extraHosts: string[]): Promise<void> {
    const p = this.paths;
    if (!existsSync(p.caCertificate) || !existsSync(p.caKey)) {
      const ca = await createCertificateAuthority();
      writeSecret(p.caKey, ca.privateKey);
      writePublic(p.caCertificate, ca.certificate);
    }
    const wanted = [...new Set(['localhost', '127.0.0.1', hostname(), ...extraHosts].filter(Boolean))];
    if (existsSync(p.serverCertificate) && existsSync(p.serverKey)) {
      const have = new Set(certificateHosts(readFileSync(p.serverCertificate, 'utf8')));
      if (wanted.every((host) => have.has(host))) return;
    }
    const ca = {
      certificate: readFileSync(p.caCertificate, 'utf8'),
      privateKey: readFileSync(p.caKey, 'utf8'),
    };
    const server = await issueServerCertificate(ca, wanted);
    writeSecret(p.serverKey, server.privateKey);
    writePublic(p.serverCertificate, server.certificate);
  }
}

/** A public key given as text is checked, so a typo fails here and not at the server. */
export function parsePublicKey(key: string): KeyPair {
  return fromPublic(key);
}
