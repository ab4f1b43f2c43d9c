import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createUser, fromSeed, KeyPair } from 'nkeys.js';

/**
 * The agent's own key pair, generated on this host and kept in `<stateDir>/agent.nk` (mode 0600).
 * Only its public half ever leaves the host: the platform signs NATS user JWTs for it, and the agent
 * signs its HTTP requests with it. Whoever can read this file can act as the agent.
 */
export class AgentKeyStore {
  readonly file: string;

  constructor(private readonly dir: string) {
    this.file = join(dir, 'agent.nk');
  }

  /** The saved key, or null before the first enrollment. */
  load(): KeyPair | null {
    let seed: string;
    try {
      seed = readFileSync(this.file, 'utf8').trim();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    try {
      return fromSeed(Buffer.from(seed));
    } catch {
      throw new Error(`${this.file} does not hold an nkey seed; delete it (and state.json) to enroll again`);
    }
  }

  /** A new key, written before it is used (temp file + rename: never half a key on disk). */
  create(): KeyPair {
    const key = createUser();
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, Buffer.from(key.getSeed()).toString(), { mode: 0o600 });
    chmodSync(temp, 0o600);
    renameSync(temp, this.file);
    return key;
  }
}
