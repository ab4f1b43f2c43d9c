import { readFileSync } from 'node:fs';
import type { Client as SshClient } from 'ssh2';
import { verifyHostKey } from './host-key-pinning';
import { SshTarget } from './ssh-targets';

export interface SshCredentials {
  privateKeyPath: string;
  knownHostsPath: string;
  /** SHA256 pins from the config, keyed by knownHostsName. */
  fingerprints: Map<string, string>;
  timeoutMs: number;
}

/** ssh2 is required on first use: other agent types never load it (in the bundle it is its own chunk). */
let ssh2: typeof import('ssh2') | undefined;
function newClient(): SshClient {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ssh2 ??= require('ssh2') as typeof import('ssh2');
  return new ssh2.Client();
}

/** The target was reached but refused (host key, authentication), or could not be reached at all. */
export class SshTargetError extends Error {}

function readOrThrow(path: string, what: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new SshTargetError(`cannot read the ${what} ${path}: ${(error as Error).message}`);
  }
}

/**
 * Connects to `target`, checks its host key against the pins before authenticating, runs `command`
 * and returns its stdout. One connection per call: a target that restarts or changes address is
 * simply met again on the next collection. Key and known_hosts are re-read each time so they can be
 * rotated without restarting the agent.
 */
export function runOverSsh(target: SshTarget, credentials: SshCredentials, command: string): Promise<string> {
  const privateKey = readOrThrow(credentials.privateKeyPath, 'SSH private key');
  const fingerprint = credentials.fingerprints.get(
    target.port === 22 ? target.host : `[${target.host}]:${target.port}`,
  );
  let knownHosts: string | undefined;
  if (!fingerprint) {
    try {
      knownHosts = readFileSync(credentials.knownHostsPath, 'utf8');
    } catch {
      // No file: verifyHostKey then refuses with "no pinned host key", which names the path.
    }
  }
  return new Promise((resolve, reject) => {
    const client = newClient();
    let refusal: string | undefined;
    let stdout = '';
    let stderr = '';
    const fail = (reason: string) => {
      clearTimeout(timer);
      client.end();
      reject(new SshTargetError(reason));
    };
    const timer = setTimeout(
      () => fail(`${target.address} did not answer within ${credentials.timeoutMs} ms`),
      credentials.timeoutMs,
    );
    client
      .on('ready', () => {
        client.exec(command, (error, stream) => {
          if (error) return fail(`${target.address}: cannot run the collection command: ${error.message}`);
          stream.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
          stream.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
          stream.on('close', () => {
            clearTimeout(timer);
            client.end();
            if (!stdout.trim())
              reject(new SshTargetError(`${target.address} printed nothing: ${stderr.trim().slice(0, 300)}`));
            else resolve(stdout);
          });
        });
      })
      .on('error', (error) => fail(refusal ?? `${target.address}: ${error.message}`))
      .connect({
        host: target.host,
        port: target.port,
        username: target.user,
        privateKey,
        readyTimeout: credentials.timeoutMs,
        // The pin is checked before any authentication: a wrong key never sees our signature.
        hostVerifier: (key: Buffer) => {
          const verdict = verifyHostKey(key, target, {
            fingerprint,
            knownHosts,
            knownHostsPath: credentials.knownHostsPath,
          });
          if (!verdict.accepted) refusal = `refused ${target.address}: ${verdict.reason}`;
          return verdict.accepted;
        },
      });
  });
}
