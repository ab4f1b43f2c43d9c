import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { DiscardPolicy, KV, NatsConnection, RetentionPolicy, StorageType } from 'nats';
import { ThrottlerStorage } from '@nestjs/throttler';
import { Clock } from '@app/clock';
import { Buckets } from '@app/contracts';
import { isJetStreamNotFound, TAMPER_PROOF, whileJetStreamSettles } from '@app/messaging';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** The KV bucket of request counters every gateway instance shares. */
export const RATE_LIMIT_BUCKET = Buckets.rateLimits;
/** Longest window or block kept; older counters expire with the bucket's max age. */
const MAX_AGE_MS = 10 * 60_000;
/** Compare-and-set attempts per increment before a busy counter is counted approximately. */
const CAS_ATTEMPTS = 8;
/** A KV operation slower than this is given up (the request is not limited rather than delayed). */
const KV_TIMEOUT_MS = 1000;
/** Least time between attempts to (re)create the bucket while it is missing. */
const ENSURE_RETRY_MS = 2000;

const NOT_LIMITED: ThrottlerStorageRecord = {
  totalHits: 0,
  timeToExpire: 0,
  isBlocked: false,
  timeToBlockExpire: 0,
};

/**
 * @nestjs/throttler's storage over a NATS KV bucket, so the limits hold across all gateway instances:
 * fixed windows, one counter per (limit, tracker, window) incremented with compare-and-set, and a block
 * entry once a limit is exceeded (it lasts `blockDuration`). Two or three KV round trips per request.
 *
 * The bucket is in memory (counters are worthless after a restart), so it vanishes when NATS restarts:
 * it is created again after every reconnect. Limits fail open: while the bucket cannot be used, requests
 * are not limited (logged once), because a rate limiter must never be what takes the API down.
 */
export class NatsKvThrottlerStorage implements ThrottlerStorage {
  private readonly logger = new Logger('RateLimits');
  private kv?: KV;
  private ensuring?: Promise<void>;
  private nextEnsureAt = 0;
  private failing = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly clock: Clock,
  ) {}

  static async open(nc: NatsConnection, clock: Clock): Promise<NatsKvThrottlerStorage> {
    const storage = new NatsKvThrottlerStorage(nc, clock);
    await storage.ensure();
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type !== 'reconnect') continue;
        storage.kv = undefined;
        storage.nextEnsureAt = 0;
        void storage.ensure();
      }
    })();
    return storage;
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const kv = this.usable();
    if (!kv) return NOT_LIMITED;
    try {
      const now = this.clock.now();
      const base = `${throttlerName}.${digest(key)}`;
      const blockedUntil = await readNumber(kv, `${base}.blocked`);
      const windowStart = Math.floor(now / ttl) * ttl;
      const timeToExpire = Math.ceil((windowStart + ttl - now) / 1000);
      if (blockedUntil > now) {
        const timeToBlockExpire = Math.ceil((blockedUntil - now) / 1000);
        return { totalHits: limit + 1, timeToExpire, isBlocked: true, timeToBlockExpire };
      }
      const totalHits = await add(kv, `${base}.w${windowStart}`);
      this.recovered();
      if (totalHits <= limit) return { totalHits, timeToExpire, isBlocked: false, timeToBlockExpire: 0 };
      await kv.put(`${base}.blocked`, String(now + blockDuration));
      return { totalHits, timeToExpire, isBlocked: true, timeToBlockExpire: Math.ceil(blockDuration / 1000) };
    } catch (error) {
      this.failed(error);
      return NOT_LIMITED;
    }
  }

  /** Seconds until `key` of `throttlerName` is unblocked, 0 when it is not blocked (no counting). */
  async blockedFor(key: string, throttlerName: string): Promise<number> {
    const kv = this.usable();
    if (!kv) return 0;
    try {
      const left = (await readNumber(kv, `${throttlerName}.${digest(key)}.blocked`)) - this.clock.now();
      return left > 0 ? Math.ceil(left / 1000) : 0;
    } catch (error) {
      this.failed(error);
      return 0;
    }
  }

  private usable(): KV | undefined {
    if (!this.kv) void this.ensure();
    return this.kv;
  }

  private ensure(): Promise<void> {
    if (this.ensuring || this.clock.now() < this.nextEnsureAt) return this.ensuring ?? Promise.resolve();
    this.nextEnsureAt = this.clock.now() + ENSURE_RETRY_MS;
    this.ensuring = (async () => {
      try {
        // Created here rather than by nats.js, so it is as tamper-proof as every other stream (no purge,
        // hence no roll-ups: counters are never purged, they age out).
        const jsm = await this.nc.jetstreamManager({ timeout: KV_TIMEOUT_MS });
        const config = {
          name: `KV_${RATE_LIMIT_BUCKET}`,
          subjects: [`$KV.${RATE_LIMIT_BUCKET}.>`],
          retention: RetentionPolicy.Limits,
          storage: StorageType.Memory,
          discard: DiscardPolicy.New,
          max_msgs_per_subject: 1,
          max_age: MAX_AGE_MS * 1_000_000,
          // The PLATFORM account requires every stream to declare its size.
          max_bytes: 32 * 1024 ** 2,
          allow_direct: true,
          ...TAMPER_PROOF,
        };
        // Created when missing (by whichever instance comes first), never updated: no gateway needs that right.
        await whileJetStreamSettles(async () => {
          try {
            await jsm.streams.info(config.name);
          } catch (error) {
            if (!isJetStreamNotFound(error)) throw error;
            await jsm.streams.add(config).catch((raced: unknown) => {
              // Another instance created it meanwhile.
              if (!/already in use/i.test(String(raced))) throw raced;
            });
          }
        });
        this.kv = await this.nc
          .jetstream({ timeout: KV_TIMEOUT_MS })
          .views.kv(RATE_LIMIT_BUCKET, { bindOnly: true });
      } catch (error) {
        this.failed(error);
      } finally {
        this.ensuring = undefined;
      }
    })();
    return this.ensuring;
  }

  private failed(error: unknown): void {
    this.kv = undefined;
    if (this.failing) return;
    this.failing = true;
    this.logger.warn(
      { err: error },
      'rate-limit counters unavailable; requests are not limited until they are back',
    );
  }

  private recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.logger.log('rate-limit counters available again');
  }
}

async function add(kv: KV, counter: string): Promise<number> {
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const entry = await kv.get(counter);
    const current = entry && entry.operation === 'PUT' ? Number(entry.string()) || 0 : 0;
    try {
      if (!entry || entry.operation !== 'PUT') await kv.create(counter, String(current + 1));
      else await kv.update(counter, String(current + 1), entry.revision);
      return current + 1;
    } catch {
      // Another instance counted first: read again.
    }
  }
  // Very hot counter: count it without the guarantee rather than fail the request.
  const entry = await kv.get(counter);
  const total = (entry ? Number(entry.string()) || 0 : 0) + 1;
  await kv.put(counter, String(total));
  return total;
}

async function readNumber(kv: KV, key: string): Promise<number> {
  const entry = await kv.get(key);
  return entry && entry.operation === 'PUT' ? Number(entry.string()) || 0 : 0;
}

/** KV keys allow a narrow alphabet; trackers (addresses, key hashes) are hashed into it. */
function digest(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 32);
}
