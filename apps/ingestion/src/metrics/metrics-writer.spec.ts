import { canonicalTags } from './metrics-writer';

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
