import { Injectable } from '@nestjs/common';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { formatToken, TokenKind } from '@app/contracts';

/**
 * Where new secrets and ids come from. Injectable so tests can make them deterministic;
 * production uses the OS CSPRNG.
 */
@Injectable()
export class TokenSecrets {
  generate(kind: TokenKind): string {
    return formatToken(kind, randomBytes);
  }

  newId(): string {
    return randomUUID();
  }
}

/** Only this hash is stored: sha256 is enough for 131-bit random secrets (no dictionary to attack). */
export function hashToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Compares two hex hashes without leaking, through timing, how many leading characters match. */
export function hashesMatch(storedHex: string, candidateHex: string): boolean {
  const stored = Buffer.from(storedHex, 'hex');
  const candidate = Buffer.from(candidateHex, 'hex');
  return stored.length === candidate.length && timingSafeEqual(stored, candidate);
}
