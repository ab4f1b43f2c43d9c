/** The time source of a service, injected so tests move a clock instead of sleeping. */
export abstract class Clock {
  /** Milliseconds since epoch. */
  abstract now(): number;
}

export class SystemClock extends Clock {
  now(): number {
    return Date.now();
  }
}

/** A clock tests move by hand instead of sleeping. */
export class ManualClock extends Clock {
  constructor(private ms = Date.UTC(2030, 0, 1)) {
    super();
  }
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}
