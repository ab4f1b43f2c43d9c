import 'reflect-metadata';
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

type WebCryptoKey = webcrypto.CryptoKey;
type WebCryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/**
 * The platform's own certificate authority: generated once, it signs the certificate of every
 * agent-facing listener (NATS, the HTTPS intake). Agents trust it by its pin (SHA-256 of the CA
 * certificate), which the install command carries; the pin is public, the CA key never leaves the
 * platform's data directory.
 */
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const CA_LIFETIME_DAYS = 3650;
/** Browsers and Go refuse server certificates valid for longer than ~825 days. */
const SERVER_LIFETIME_DAYS = 825;
const DAY_MS = 86_400_000;

export interface PemPair {
  certificate: string;
  privateKey: string;
}

const serial = () =>
  createHash('sha256')
    .update(webcrypto.getRandomValues(new Uint8Array(16)))
    .digest('hex')
    .slice(0, 32);

async function exportKey(key: WebCryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

export async function createCertificateAuthority(name = 'Agent Connector platform CA'): Promise<PemPair> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as WebCryptoKeyPair;
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + CA_LIFETIME_DAYS * DAY_MS),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate: certificate.toString('pem'), privateKey: await exportKey(keys.privateKey) };
}

/** A server certificate for `hosts` (names and IP addresses), signed by the CA. */
export async function issueServerCertificate(ca: PemPair, hosts: string[]): Promise<PemPair> {
  const caCert = new x509.X509Certificate(ca.certificate);
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    x509.PemConverter.decodeFirst(ca.privateKey),
    ALGORITHM,
    false,
    ['sign'],
  );
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as WebCryptoKeyPair;
  const now = Date.now();
  const names = [...new Set(hosts)].map((host) =>
    isIP(host) ? { type: 'ip' as const, value: host } : { type: 'dns' as const, value: host },
  );
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${hosts[0] ?? 'localhost'}`,
    issuer: caCert.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + SERVER_LIFETIME_DAYS * DAY_MS),
    signingKey: caKey,
    publicKey: keys.publicKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certificate: certificate.toString('pem'), privateKey: await exportKey(keys.privateKey) };
}

/** `sha256:<hex>` of the CA certificate (DER): what an install command pins. */
export function certificatePin(pem: string): string {
  return `sha256:${createHash('sha256').update(new X509Certificate(pem).raw).digest('hex')}`;
}

/** The names and addresses a certificate is valid for. */
export function certificateHosts(pem: string): string[] {
  const san = new X509Certificate(pem).subjectAltName ?? '';
  return san
    .split(',')
    .map((entry) => entry.trim().replace(/^(DNS|IP Address):/, ''))
    .filter(Boolean);
}

/** Milliseconds until the certificate expires (negative once it has). */
export function certificateRemainingMs(pem: string, now = Date.now()): number {
  return Date.parse(new X509Certificate(pem).validTo) - now;
}
