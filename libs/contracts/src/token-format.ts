import { crc32 } from 'node:zlib';
import { TOKEN_PREFIXES, TokenKind } from './tokens';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** 22 base62 characters = 131 bits of randomness. */
export const TOKEN_RANDOM_LENGTH = 22;
/** CRC32 of prefix+random, base62, zero-padded: 6 characters (62^6 > 2^32). */
export const TOKEN_CHECKSUM_LENGTH = 6;

function toBase62(value: number, width: number): string {
  let out = '';
  let n = value;
  while (n > 0) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out.padStart(width, '0');
}

function checksum(body: string): string {
  return toBase62(crc32(body) >>> 0, TOKEN_CHECKSUM_LENGTH);
}

/**
 * Builds `rca_<kind>_<22 base62><6 checksum>` from random bytes. Bytes are mapped to base62
 * by rejection sampling (values ≥ 248 are skipped), so every character is uniform.
 */
export function formatToken(kind: TokenKind, randomBytes: (n: number) => Buffer): string {
  let random = '';
  while (random.length < TOKEN_RANDOM_LENGTH) {
    for (const byte of randomBytes(32)) {
      if (byte < 248 && random.length < TOKEN_RANDOM_LENGTH) random += BASE62[byte % 62];
    }
  }
  const body = TOKEN_PREFIXES[kind] + random;
  return body + checksum(body);
}

const KIND_BY_PREFIX = new Map(
  Object.entries(TOKEN_PREFIXES).map(([kind, prefix]) => [prefix, kind as TokenKind]),
);
const TOKEN_SHAPE = new RegExp(
  `^(rca_[a-z]{2}_)([0-9A-Za-z]{${TOKEN_RANDOM_LENGTH}})([0-9A-Za-z]{${TOKEN_CHECKSUM_LENGTH}})$`,
);

/** Checks prefix, length, alphabet and checksum without any lookup; null when any is wrong. */
export function parseToken(token: string): { kind: TokenKind } | null {
  const match = TOKEN_SHAPE.exec(token);
  if (!match) return null;
  const kind = KIND_BY_PREFIX.get(match[1]);
  if (!kind) return null;
  return checksum(match[1] + match[2]) === match[3] ? { kind } : null;
}

/** The first characters shown in lists so a user can tell tokens apart: `rca_et_AbCd…`. */
export function tokenHint(token: string): string {
  return `${token.slice(0, 11)}…`;
}
