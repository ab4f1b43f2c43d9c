import { Inject, Injectable, Logger } from '@nestjs/common';
import { JSONCodec, NatsConnection, Subscription } from 'nats';
import { Streams, Subjects } from '@app/contracts';
import { NATS_CONNECTION } from '@app/messaging';
import { IngestionMetrics } from '../observability/ingestion-metrics';
import { RejectedInput } from '../observability/rejected-input';
import { DeadLetterParker } from './dead-letter';
import { METRICS_CONSUMER } from './metrics-stream';

/**
 * Dead-letter reason (and `ingestion_rejected_total` label) of a message JetStream delivered
 * METRICS_MAX_DELIVERIES times without an ack. Beside RejectReasons, which judge a message's content.
 */
export const MAX_DELIVERIES_REASON = 'max_deliveries';

/** One instance handles each advisory, like the heartbeats. */
const QUEUE_GROUP = 'ingestion';

interface MaxDeliveriesAdvisory {
  stream_seq: number;
  deliveries: number;
}

const json = JSONCodec<MaxDeliveriesAdvisory>();

/**
 * Parks what JetStream gave up on. The metrics consumer stops redelivering a message after
 * METRICS_MAX_DELIVERIES deliveries that none ended in an ack (instances died with it in hand, or kept
 * handing it back), and says so in an advisory; one instance reads the message back by its sequence
 * and parks it as `max_deliveries`, so nothing is retried forever and nothing vanishes unseen.
 */
@Injectable()
export class ExhaustedDeliveryParker {
  private readonly logger = new Logger(ExhaustedDeliveryParker.name);
  private subscription?: Subscription;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly deadLetter: DeadLetterParker,
    private readonly metrics: IngestionMetrics,
    private readonly rejected: RejectedInput,
  ) {}

  start(): void {
    this.subscription ??= this.nc.subscribe(
      Subjects.maxDeliveriesAdvisory(Streams.metrics, METRICS_CONSUMER),
      {
        queue: QUEUE_GROUP,
        callback: (err, msg) => {
          if (!err) void this.park(msg.data);
        },
      },
    );
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  private async park(data: Uint8Array): Promise<void> {
    let advisory: MaxDeliveriesAdvisory | undefined;
    try {
      advisory = json.decode(data);
      const jsm = await this.nc.jetstreamManager();
      const stored = await jsm.streams.getMessage(Streams.metrics, { seq: advisory.stream_seq });
      const detail = `delivered ${advisory.deliveries} times without being stored`;
      await this.deadLetter.park(
        { subject: stored.subject, data: stored.data, headers: stored.header, seq: stored.seq },
        MAX_DELIVERIES_REASON,
        detail,
      );
      this.rejected.record('metrics', MAX_DELIVERIES_REASON, { subject: stored.subject, detail });
      this.metrics.deadLettered.inc();
    } catch (error) {
      // Gone already (the stream's limits discarded it) or JetStream unavailable: it stays undelivered until max_age.
      this.logger.warn(
        { err: error, streamSeq: advisory?.stream_seq },
        'could not park a metrics message JetStream stopped delivering',
      );
    }
  }
}
