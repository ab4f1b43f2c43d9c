import { parseQuantity } from './quantity';

describe('Kubernetes quantities', () => {
  it.each([
    ['4', 4],
    ['3920m', 3.92],
    ['250m', 0.25],
    ['16369532Ki', 16369532 * 1024],
    ['8Gi', 8 * 2 ** 30],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['500M', 500e6],
    ['1e3', 1000],
    ['110', 110],
    ['100n', 100e-9],
  ])('reads %s as %d', (quantity, value) => {
    expect(parseQuantity(quantity)).toBeCloseTo(value, 9);
  });

  it.each(['', 'abc', '4 cores', '1.2.3', 'Gi'])('rejects %j', (quantity) => {
    expect(parseQuantity(quantity)).toBeNull();
  });

  it('returns null for a missing quantity', () => {
    expect(parseQuantity(undefined)).toBeNull();
  });
});
