import { seededRandom } from '@app/testing';
import { canonicalTags, SeriesIds, tagsSerialiseTo } from './series-ids';

describe('canonicalTags', () => {
  it('writes equal tag sets as the same text whatever their key order', () => {
    expect(canonicalTags({ host: 'h', core: '1' })).toBe(canonicalTags({ core: '1', host: 'h' }));
    expect(canonicalTags({ host: 'h', core: '1' })).toBe('{"core":"1","host":"h"}');
  });

  it('writes missing and empty tags as an empty object', () => {
    expect(canonicalTags(undefined)).toBe('{}');
    expect(canonicalTags(null)).toBe('{}');
    expect(canonicalTags({})).toBe('{}');
  });
});

describe('tagsSerialiseTo', () => {
  it('answers true for the tags a canonical text was made from, sent in key order', () => {
    const cases: (Record<string, string> | null | undefined)[] = [
      undefined,
      null,
      {},
      { core: '0' },
      { a: '', b: 'x y', c: 'é ✓ 🚀' },
      { '': '' },
    ];
    for (const tags of cases) expect(tagsSerialiseTo(tags, canonicalTags(tags))).toBe(true);
  });

  it('never answers true when the canonical texts differ, whatever the characters', () => {
    // Keys and values built from the characters that JSON escapes or that delimit it.
    const alphabet = ['a', 'b', '"', '\\', ',', ':', '{', '}', '\n', '\u0000', '\ud800', 'é', ' '];
    const rnd = seededRandom(42);
    const text = () =>
      Array.from({ length: Math.floor(rnd() * 4) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join(
        '',
      );
    const tagSet = () => {
      const tags: Record<string, string> = {};
      for (let i = Math.floor(rnd() * 3); i > 0; i--) tags[text()] = text();
      return tags;
    };
    const sets = Array.from({ length: 400 }, tagSet);
    let matched = 0;
    for (const a of sets)
      for (let k = 0; k < 20; k++) {
        // Half the time against its own text (where true is the right answer), else against another set's.
        const b = k % 2 ? a : sets[Math.floor(rnd() * sets.length)];
        const answer = tagsSerialiseTo(a, canonicalTags(b));
        if (answer) {
          expect(canonicalTags(a)).toBe(canonicalTags(b));
          matched++;
        }
      }
    // Not vacuous: plain tags do match.
    expect(matched).toBeGreaterThan(1000);
  });

  it('leaves tags out of key order or with a quote or backslash to the exact comparison', () => {
    expect(tagsSerialiseTo({ b: '1', a: '2' }, canonicalTags({ a: '2', b: '1' }))).toBe(false);
    expect(tagsSerialiseTo({ a: 'x"y' }, canonicalTags({ a: 'x"y' }))).toBe(false);
    // A raw backslash-quote must not pass for an escaped quote.
    expect(tagsSerialiseTo({ a: 'x\\"' }, canonicalTags({ a: 'x"' }))).toBe(false);
    expect(tagsSerialiseTo({ a: '1' }, canonicalTags({ a: '1', b: '2' }))).toBe(false);
    expect(tagsSerialiseTo({ a: '1', b: '2' }, canonicalTags({ a: '1' }))).toBe(false);
  });
});

describe('SeriesIds shapes', () => {
  const batch = (values: Record<string, string>[]) => values.map((tags) => ({ name: 'cpu', value: 1, tags }));

  it("resolves a batch with its agent's last shape by comparison, and nothing else", () => {
    const ids = new SeriesIds();
    const first = batch([{ core: '0' }, { core: '1' }]);
    ids.remember(
      'a',
      first,
      first.map((s) => canonicalTags(s.tags)),
      [7, 8],
    );
    expect(ids.sameShape('a', batch([{ core: '0' }, { core: '1' }]))).toEqual([7, 8]);
    expect(ids.sameShape('a', batch([{ core: '1' }, { core: '0' }]))).toBeUndefined();
    expect(ids.sameShape('a', batch([{ core: '0' }]))).toBeUndefined();
    expect(
      ids.sameShape('a', [{ name: 'mem', value: 1, tags: { core: '0' } }, ...batch([{ core: '1' }])]),
    ).toBeUndefined();
    expect(ids.sameShape('b', first)).toBeUndefined();
  });
});
