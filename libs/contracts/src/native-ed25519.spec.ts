import nacl from 'tweetnacl';
import { createUser, fromPublic, Prefix } from 'nkeys.js';
import { Codec } from 'nkeys.js/lib/codec';
import './native-ed25519';

describe('Ed25519 through node:crypto for nkeys.js', () => {
  const key = createUser();
  const message = Buffer.from('rca-request-v1\nPOST heartbeat\n1\nabc');
  const seed = Codec.decodeSeed(key.getSeed()).buf;
  const reference = nacl.sign.keyPair.fromSeed(seed);

  it('signs exactly as tweetnacl does, with the same public key', () => {
    expect(Buffer.from(key.sign(message))).toEqual(
      Buffer.from(nacl.sign.detached(message, reference.secretKey)),
    );
    const publicKey = Codec.decode(Prefix.User, new TextEncoder().encode(key.getPublicKey()));
    expect(Buffer.from(publicKey)).toEqual(Buffer.from(reference.publicKey));
  });

  it("verifies tweetnacl's signatures and refuses a changed message or signature", () => {
    const signature = nacl.sign.detached(message, reference.secretKey);
    const verifier = fromPublic(key.getPublicKey());
    expect(verifier.verify(message, signature)).toBe(true);
    expect(verifier.verify(Buffer.from('rca-request-v1\nPOST metrics\n1\nabc'), signature)).toBe(false);
    const flipped = Uint8Array.from(signature);
    flipped[0] ^= 1;
    expect(verifier.verify(message, flipped)).toBe(false);
    expect(verifier.verify(message, new Uint8Array(3))).toBe(false);
  });
});
