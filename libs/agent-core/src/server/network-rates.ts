/** Counters of one interface at one instant, as the OS reports them (monotonic until a reset). */
export interface InterfaceCounters {
  at: number;
  rxBytes: number;
  txBytes: number;
  rxErrors: number;
  txErrors: number;
}

export interface InterfaceRates {
  rxBytesPerSecond: number;
  txBytesPerSecond: number;
  rxErrorsPerSecond: number;
  txErrorsPerSecond: number;
}

/**
 * Growth of a counter between two readings. A counter that went down was reset (interface
 * re-created, driver reload, 32-bit wrap): like Prometheus' rate(), it is taken to have restarted
 * from zero, so the growth is the new value rather than a negative number.
 */
export function counterIncrease(previous: number, current: number): number {
  return current >= previous ? current - previous : current;
}

/** Per-second rates between two readings; null when there is no usable interval. */
export function interfaceRates(
  previous: InterfaceCounters,
  current: InterfaceCounters,
): InterfaceRates | null {
  const seconds = (current.at - previous.at) / 1000;
  if (!(seconds > 0)) return null;
  const rate = (a: number, b: number) => counterIncrease(a, b) / seconds;
  return {
    rxBytesPerSecond: rate(previous.rxBytes, current.rxBytes),
    txBytesPerSecond: rate(previous.txBytes, current.txBytes),
    rxErrorsPerSecond: rate(previous.rxErrors, current.rxErrors),
    txErrorsPerSecond: rate(previous.txErrors, current.txErrors),
  };
}

/** Remembers the last reading per interface so each collection yields rates since the previous one. */
export class NetworkRateTracker {
  private readonly last = new Map<string, InterfaceCounters>();

  /** Returns rates for this reading (null on an interface's first reading) and keeps it for the next. */
  update(iface: string, current: InterfaceCounters): InterfaceRates | null {
    const previous = this.last.get(iface);
    this.last.set(iface, current);
    return previous ? interfaceRates(previous, current) : null;
  }

  /** Forgets interfaces that disappeared, so the map cannot grow with churned virtual interfaces. */
  retainOnly(ifaces: Iterable<string>): void {
    const keep = new Set(ifaces);
    for (const name of this.last.keys()) if (!keep.has(name)) this.last.delete(name);
  }
}
