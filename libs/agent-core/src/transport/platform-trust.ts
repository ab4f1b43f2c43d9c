import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PlatformClient } from './platform-client';

/** `sha256:<64 hex>`: the SHA-256 of the CA certificate (DER), as printed by the platform. */
export const CA_PIN_PATTERN = /^sha256:[0-9a-f]{64}$/;

export function caPinOf(pem: string): string {
  return `sha256:${createHash('sha256').update(new X509Certificate(pem).raw).digest('hex')}`;
}

export interface PlatformTrustOptions {
  /** A CA certificate file given by the operator (RCA_CA_FILE). */
  caFile?: string;
  /** The pin from the install command (RCA_CA_PIN): the CA is fetched from the platform and must match it. */
  caPin?: string;
  stateDir: string;
  client: PlatformClient;
}

/**
 * The CA the agent trusts for NATS TLS and HTTPS to the platform: a given file, or the platform's own
 * CA fetched once and checked against the pin in the install command (kept as `<stateDir>/ca.pem`),
 * like `kubeadm join --discovery-token-ca-cert-hash`. Undefined: the system's trusted roots.
 */
export async function resolvePlatformCa(options: PlatformTrustOptions): Promise<string | undefined> {
  if (options.caFile) {
    const pem = readFileSync(options.caFile, 'utf8');
    if (options.caPin && caPinOf(pem) !== options.caPin)
      throw new Error(`${options.caFile} does not match the CA pin ${options.caPin}`);
    return pem;
  }
  if (!options.caPin) return undefined;
  const saved = join(options.stateDir, 'ca.pem');
  if (existsSync(saved)) {
    const pem = readFileSync(saved, 'utf8');
    if (caPinOf(pem) === options.caPin) return pem;
  }
  const pem = await options.client.caCertificate();
  let pin: string;
  try {
    pin = caPinOf(pem);
  } catch {
    throw new Error('the platform did not serve a certificate at /api/v1/intake/ca.pem');
  }
  if (pin !== options.caPin) {
    throw new Error(
      `the platform's CA (${pin}) does not match the pin in the install command (${options.caPin}): refusing to trust it`,
    );
  }
  mkdirSync(options.stateDir, { recursive: true, mode: 0o700 });
  writeFileSync(saved, pem, { mode: 0o644 });
  return pem;
}
