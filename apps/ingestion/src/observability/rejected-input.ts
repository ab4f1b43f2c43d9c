import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '@app/clock';
import { IngestionMetrics, MessageKind } from './ingestion-metrics';

/** After the first refusal of a kind and reason, at most one line per this window, with the count. */
export const REJECTION_LOG_WINDOW_MS = 60_000;

/** Where a refusal was seen and what was wrong with it (never the credential). */
export interface RejectionContext {
  subject?: string;
  detail?: string;
}

export interface RejectionLine extends RejectionContext {
  kind: MessageKind;
  reason: string;
  /** Refusals of this kind and reason since the previous line, this one included. */
  count: number;
}

type LineSink = (line: RejectionLine, message: string) => void;

/**
 * Refused agent input, counted and logged. Every refusal increments `ingestion_rejected_total{kind,reason}`;
 * the log gets the first refusal of each kind and reason at once, then at most one line per kind and
 * reason per minute, carrying how many were refused since the previous line. A flood of bad
 * messages is therefore visible in the log within a second and costs one line a minute.
 */
@Injectable()
export class RejectedInput {
  private static readonly logger = new Logger('RejectedInput');
  /** `<kind>:<reason>` → the window's start and the refusals in it; bounded by kinds × reasons. */
  private readonly windows = new Map<string, { loggedAt: number; count: number }>();

  constructor(
    private readonly metrics: IngestionMetrics,
    @Inject(Clock) private readonly clock: Clock,
    private readonly sink: LineSink = (line, message) => RejectedInput.logger.warn(line, message),
  ) {}

  record(kind: MessageKind, reason: string, context: RejectionContext = {}, n = 1): void {
    this.metrics.rejected.inc({ kind, reason }, n);
    const key = `${kind}:${reason}`;
    const now = this.clock.now();
    const window = this.windows.get(key);
    if (window && now - window.loggedAt < REJECTION_LOG_WINDOW_MS) {
      window.count += n;
      return;
    }
    const count = (window?.count ?? 0) + n;
    this.windows.set(key, { loggedAt: now, count: 0 });
    this.sink(
      { kind, reason, count, ...context },
      window
        ? `${kind} refused: ${reason}; ${count} such refusals since the previous line`
        : `${kind} refused: ${reason}`,
    );
  }
}
