import { randomBytes } from 'node:crypto';
import { formatToken, parseToken } from './token-format';

describe('token format', () => {
  it('a freshly formatted token parses back to its kind', () => {
    const token = formatToken('enrollment', randomBytes);
    expect(token).toMatch(/^rca_et_[0-9A-Za-z]{28}$/);
    expect(parseToken(token)).toEqual({ kind: 'enrollment' });
  });

  it('a single changed character is rejected by the checksum', () => {
    const token = formatToken('enrollment', randomBytes);
    const i = 10;
    const typo = token.slice(0, i) + (token[i] === 'a' ? 'b' : 'a') + token.slice(i + 1);
    expect(parseToken(typo)).toBeNull();
  });

  it('unknown prefixes, short tokens and foreign characters are rejected', () => {
    const token = formatToken('api_key', randomBytes);
    expect(parseToken(token.replace('rca_ak_', 'rca_xx_'))).toBeNull();
    expect(parseToken(token.slice(0, -1))).toBeNull();
    expect(parseToken(token.slice(0, -1) + '!')).toBeNull();
  });

  it('draws all 62 characters roughly uniformly', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      for (const c of formatToken('enrollment', randomBytes).slice(7, 29))
        counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect(counts.size).toBe(62);
    const values = [...counts.values()];
    // 44,000 draws over 62 symbols: ~710 each; a biased mapping (byte % 62 without rejection) skews by ~25%.
    expect(Math.max(...values) / Math.min(...values)).toBeLessThan(1.35);
  });
});
