import { connect, ConnectionOptions, NatsConnection, credsAuthenticator } from 'nats';
import { readFileSync } from 'node:fs';

export interface NatsConnectionSettings {
  /** Comma-separated list accepted too. */
  url: string;
  name: string;
  token?: string;
  credsFile?: string;
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
    authenticator: settings.credsFile ? credsAuthenticator(readFileSync(settings.credsFile)) : undefined,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    reconnectJitter: 500,
    reconnectJitterTLS: 1000,
    waitOnFirstConnect: true,
    pingInterval: 10_000,
    maxPingOut: 3,
  };
}

export function connectNats(settings: NatsConnectionSettings): Promise<NatsConnection> {
  return connect(natsConnectionOptions(settings));
}
