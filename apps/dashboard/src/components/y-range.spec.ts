import { yRange } from './y-range';

describe('yRange', () => {
  it('draws a 0.006 % spread of a percentage as a flat line, not a full-height cliff', () => {
    expect(yRange('%', 40.001, 40.007)).toEqual([0, 50]);
  });

  it('ends a percentage axis at a round bound: 5 % for low CPU, 100 % near full, more for multi-core', () => {
    expect(yRange('%', 0.5, 3.2)).toEqual([0, 5]);
    expect(yRange('%', 60, 97)).toEqual([0, 100]);
    expect(yRange('%', 90, 340)).toEqual([0, 500]);
  });

  it('keeps the range of other units, and pads a constant line without going below zero', () => {
    expect(yRange('By', 100, 900)).toEqual([100, 900]);
    expect(yRange('1', 3, 3)).toEqual([2.7, 3.3]);
    expect(yRange('1', 0, 0)).toEqual([0, 1]);
    expect(yRange(null, null, null)).toEqual([0, 1]);
  });
});
