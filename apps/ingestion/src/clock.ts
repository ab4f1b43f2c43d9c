/** The time source of the service; tests inject a clock they can move. */
export abstract class Clock {
  /** Milliseconds since epoch. */
  abstract now(): number;
}

export class SystemClock extends Clock {
  now(): number {
    return Date.now();
  }
}
