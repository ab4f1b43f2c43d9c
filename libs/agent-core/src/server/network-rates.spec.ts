import { counterIncrease, interfaceRates, InterfaceCounters, NetworkRateTracker } from './network-rates';

const reading = (
  at: number,
  rxBytes: number,
  txBytes: number,
  rxErrors = 0,
  txErrors = 0,
): InterfaceCounters => ({
  at,
  rxBytes,
  txBytes,
  rxErrors,
  txErrors,
});

describe('network rates', () => {
  it('divides counter growth by the seconds between readings', () => {
    expect(interfaceRates(reading(10_000, 1000, 5000, 1, 0), reading(12_000, 5000, 6000, 5, 2))).toEqual({
      rxBytesPerSecond: 2000,
      txBytesPerSecond: 500,
      rxErrorsPerSecond: 2,
      txErrorsPerSecond: 1,
    });
  });

  it('treats a counter that went down as reset to zero, never as a negative rate', () => {
    expect(counterIncrease(10_000, 300)).toBe(300);
    const rates = interfaceRates(reading(0, 9_000_000, 100), reading(1000, 400, 100))!;
    expect(rates.rxBytesPerSecond).toBe(400);
    expect(rates.txBytesPerSecond).toBe(0);
  });

  it('gives no rate when no time has passed or the clock went back', () => {
    expect(interfaceRates(reading(1000, 0, 0), reading(1000, 10, 10))).toBeNull();
    expect(interfaceRates(reading(2000, 0, 0), reading(1000, 10, 10))).toBeNull();
  });

  it("yields nothing on an interface's first reading and rates from the second on", () => {
    const tracker = new NetworkRateTracker();
    expect(tracker.update('eth0', reading(0, 0, 0))).toBeNull();
    expect(tracker.update('eth0', reading(500, 1000, 0))!.rxBytesPerSecond).toBe(2000);
  });

  it('forgets interfaces that disappeared, so a re-created one starts afresh', () => {
    const tracker = new NetworkRateTracker();
    tracker.update('veth1', reading(0, 100, 100));
    tracker.retainOnly(['eth0']);
    expect(tracker.update('veth1', reading(1000, 200, 200))).toBeNull();
  });
});
