import { createPrivateKey, createPublicKey, KeyObject, sign, verify } from 'node:crypto';
// First the package itself: loading it installs its default (tweetnacl) helper, which must not
// replace this one afterwards.
import 'nkeys.js';
import { getEd25519Helper, setEd25519Helper } from 'nkeys.js/lib/helper';

/**
 * nkeys.js signs and verifies with tweetnacl, pure JavaScript: about 10 ms per operation here, which
 * made the enrollment proof, every signed intake request and every JWT the token service signs cost
 * a core's 10 ms. Node's own Ed25519 (OpenSSL) gives the same bytes in tens of microseconds. This
 * swaps it in for sign, verify and fromSeed in every nkeys.js user of the process (nats.js, nats-jwt,
 * ours); the rest (curve sealing) stays tweetnacl's.
 */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** Key objects are cached: building one costs more than the signature itself. */
const CACHE_LIMIT = 10_000;

const privateKeys = new Map<string, KeyObject>();
const publicKeys = new Map<string, KeyObject>();

function cached(
  cache: Map<string, KeyObject>,
  raw: Uint8Array,
  build: (der: Buffer) => KeyObject,
): KeyObject {
  const id = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
  let key = cache.get(id);
  if (!key) {
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    key = build(Buffer.from(raw));
    cache.set(id, key);
  }
  return key;
}

const privateKeyOf = (seed: Uint8Array) =>
  cached(privateKeys, seed.subarray(0, 32), (raw) =>
    createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' }),
  );
const publicKeyOf = (raw: Uint8Array) =>
  cached(publicKeys, raw, (der) =>
    createPublicKey({ key: Buffer.concat([SPKI_PREFIX, der]), format: 'der', type: 'spki' }),
  );

let installed = false;

export function useNativeEd25519(): void {
  if (installed) return;
  installed = true;
  const fallback = getEd25519Helper();
  setEd25519Helper({
    ...fallback,
    fromSeed(seed: Uint8Array) {
      const publicDer = createPublicKey(privateKeyOf(seed)).export({ format: 'der', type: 'spki' });
      const publicKey = new Uint8Array(publicDer.subarray(publicDer.length - 32));
      const secretKey = new Uint8Array(64);
      secretKey.set(seed.subarray(0, 32), 0);
      secretKey.set(publicKey, 32);
      return { publicKey, secretKey };
    },
    sign(data: Uint8Array, secretKey: Uint8Array) {
      return new Uint8Array(sign(null, data, privateKeyOf(secretKey)));
    },
    verify(data: Uint8Array, signature: Uint8Array, publicKey: Uint8Array) {
      try {
        return verify(null, data, publicKeyOf(publicKey), signature);
      } catch {
        return false;
      }
    },
  });
}

useNativeEd25519();
