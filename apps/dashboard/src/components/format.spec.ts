import { formatTicks, formatValue } from './format';

describe('chart number formatting', () => {
  it('scales bytes to the largest binary unit that keeps the number at or above one', () => {
    expect(formatValue(512, 'By')).toBe('512 B');
    expect(formatValue(1536, 'By')).toBe('1.5 KiB');
    expect(formatValue(3 * 1024 ** 3, 'By')).toBe('3.0 GiB');
    expect(formatValue(200 * 1024 ** 2, 'By/s')).toBe('200 MiB/s');
  });

  it('shows percentages with one decimal and counts without a unit', () => {
    expect(formatValue(42, '%')).toBe('42.0 %');
    expect(formatValue(7, '1')).toBe('7');
    expect(formatValue(0.256, '1/s')).toBe('0.26 1/s');
    expect(formatValue(null, '%')).toBe('—');
  });

  it('labels one axis in one unit, with enough decimals to tell close ticks apart', () => {
    expect(formatTicks([0, 5 * 1024 ** 2, 10 * 1024 ** 2], 'By/s')).toEqual([
      '0 MiB/s',
      '5 MiB/s',
      '10 MiB/s',
    ]);
    expect(formatTicks([23.92, 23.93, 23.94], '%')).toEqual(['23.92 %', '23.93 %', '23.94 %']);
    expect(formatTicks([0, 0.5, 1], '1')).toEqual(['0.0', '0.5', '1.0']);
  });
});
