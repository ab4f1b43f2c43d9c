import { ValidationFailedError } from '@app/contracts';
import { applyLabelChanges, sameLabels } from './label-changes';

const fieldsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationFailedError) return (error.errors ?? []).map((e) => e.field);
    throw error;
  }
  return [];
};

describe('applyLabelChanges', () => {
  it('removes first, then sets, so a key both removed and set ends up set', () => {
    expect(
      applyLabelChanges({ a: '1', b: '2' }, { remove: ['a', 'b', 'absent'], set: { b: '3' } }, ''),
    ).toEqual({
      b: '3',
    });
  });

  it('keeps a __proto__ key as a plain label rather than changing the object it builds', () => {
    const set = JSON.parse('{"__proto__":"x"}') as Record<string, string>;
    const labels = applyLabelChanges({}, { set }, '');
    expect(Object.keys(labels)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(labels)).toBe(Object.prototype);
  });

  it('names the bad key under the given field, and an empty change as the field itself', () => {
    expect(fieldsOf(() => applyLabelChanges({}, { set: { 'a b': 'x' } }, 'labels'))).toEqual([
      'labels.set.a b',
    ]);
    expect(fieldsOf(() => applyLabelChanges({}, {}, 'labels'))).toEqual(['labels']);
    expect(fieldsOf(() => applyLabelChanges({}, {}, ''))).toEqual(['(body)']);
  });

  it('refuses a result of more than 32 labels even when each change is valid', () => {
    const current = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, 'v']));
    expect(fieldsOf(() => applyLabelChanges(current, { set: { one: 'more' } }, ''))).toEqual(['set']);
    expect(
      Object.keys(applyLabelChanges(current, { remove: ['k0'], set: { one: 'more' } }, '')),
    ).toHaveLength(32);
  });
});

describe('sameLabels', () => {
  it('ignores key order and notices a changed value or an extra key', () => {
    expect(sameLabels({ a: '1', b: '2' }, { b: '2', a: '1' })).toBe(true);
    expect(sameLabels({ a: '1' }, { a: '2' })).toBe(false);
    expect(sameLabels({ a: '1' }, { a: '1', b: '2' })).toBe(false);
  });
});
