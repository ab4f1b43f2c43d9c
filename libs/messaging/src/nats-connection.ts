import { connect, ConnectionOptions, NatsConnection, credsAuthenticator } from 'nats';
import { readFileSync } from 'node:fs';
import { inboxPrefix } from '@app/contracts';

export interface NatsConnectionSettings {
  /** Comma-separated list accepted too. */
  url: string;
  name: string;
  token?: string;
  /** A NATS `.creds` file: the process's user JWT and nkey seed (operator mode). */
  credsFile?: string;
  /** PEM of the CA that signed the server's certificate (the platform CA); TLS is then required. */
  caFile?: string;
  /** Reply subjects start with this (`_INBOX_<identity>`): a user may only read its own. */
  inboxPrefix?: string;
}

/** The bus variables every service reads (CommonConfig), by name. */
export interface BusVariables {
  NATS_URL: string;
  NATS_TOKEN?: string;
  NATS_CREDS?: string;
  NATS_CA_FILE?: string;
}

/** A service's connection settings: its identity names the connection and its inbox prefix. */
export function busSettings(config: BusVariables, identity: string): NatsConnectionSettings {
  return {
    url: config.NATS_URL,
    name: identity,
    token: config.NATS_TOKEN,
    credsFile: config.NATS_CREDS,
    caFile: config.NATS_CA_FILE,
    inboxPrefix: inboxPrefix(identity),
  };
}

/**
 * Options shared by every connection: reconnect forever, jittered, so a NATS restart or
 * failover never needs a process restart; the first connect waits too.
 */
export function natsConnectionOptions(settings: NatsConnectionSettings): ConnectionOptions {
  return {
    servers: settings.url.split(',').map((s) => s.trim()),
    name: settings.name,
    token: settings.token,
    // Read at every (re)connect, so replaced creds are picked up without a restart.
    authenticator: settings.credsFile
      ? credsAuthenticator(() => readFileSync(settings.credsFile as string))
      : undefined,
    tls: settings.caFile ? { caFile: settings.caFile } : undefined,
    inboxPrefix: settings.inboxPrefix,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    reconnectJitter: 500,
    reconnectJitterTLS: 1000,
    waitOnFirstConnect: true,
    // A refused authentication (a server restarting its resolver) must not end the process's link for good.
    ignoreAuthErrorAbort: true,
    pingInterval: 10_000,
    maxPingOut: 3,
  };
}

export function connectNats(settings: NatsConnectionSettings): Promise<NatsConnection> {
  return connect(natsConnectionOptions(settings));
}
