import { ConsumerMessages, DeliverPolicy, NatsConnection, JSONCodec, Subscription } from 'nats';
import {
  DomainError,
  ErrorCodes,
  EventEnvelope,
  EventKinds,
  Streams,
  Subjects,
  TokenKind,
  TokenMalformedError,
  TokenRevokedError,
  TokenWrongKindError,
  VerifiedToken,
  VerifyTokenRequest,
  parseToken,
} from '@app/contracts';
import { RpcClient } from '@app/messaging';
import { VerifyBatcher } from './verify-batcher';

export interface TokenVerifierOptions {
  /** How long a positive answer is reused. Revocation events cut it short. */
  ttlMs?: number;
  /** How long "unknown/revoked/expired" is remembered, so a flood of bad tokens costs one lookup each. */
  negativeTtlMs?: number;
  maxEntries?: number;
  now?: () => number;
  /**
   * `batched` (default): misses share `tokens.verifyMany` requests (see VerifyBatcher). `single`: one
   * `tokens.verify` each, for a token service that predates `tokens.verifyMany`.
   */
  lookups?: TokenLookupMode;
}

export const TokenLookupModes = ['batched', 'single'] as const;
export type TokenLookupMode = (typeof TokenLookupModes)[number];

type Entry = { until: number; tokenId?: string } & (
  { ok: true; value: VerifiedToken } | { ok: false; error: DomainError }
);

/** Window over which entries are re-checked after a reconnect (see the class comment). */
export const RECONNECT_REVALIDATION_SPREAD_MS = 10_000;
/** Retry delay of the EVENTS reader while the stream or JetStream is not there. */
const FOLLOW_RETRY_MS = 2_000;

/** Both events name the token in `data.tokenId`. */
const json = JSONCodec<EventEnvelope<{ tokenId: string }>>();
/** Errors that are a property of the token, safe to cache; TIMEOUT/UNAVAILABLE are not. */
const CACHEABLE = new Set<string>([
  ErrorCodes.TOKEN_UNKNOWN,
  ErrorCodes.TOKEN_REVOKED,
  ErrorCodes.TOKEN_EXPIRED,
]);

/**
 * Verifies tokens through the token service with a per-process cache. A `token.revoked`
 * event removes the token's entries in every process that listens (within milliseconds), and
 * a `token.rotated` event drops them so the next check learns the shortened expiry. The events
 * are heard twice over: live on core NATS, and durably from the EVENTS stream through an ordered
 * consumer that resumes after the last sequence it saw, so an event missed during a disconnect is
 * applied as soon as the link is back. As a last resort after a reconnect every entry also expires
 * within RECONNECT_REVALIDATION_SPREAD_MS, at a random moment: dropping the whole cache at once would
 * send the entire fleet's credentials to the token service in the same second. Misses are not sent one
 * by one either: concurrent ones share a `tokens.verifyMany` (VerifyBatcher), so thousands of new
 * credentials arriving at once cost the token service a few requests and queries, not thousands.
 */
export class CachedTokenVerifier {
  private readonly entries = new Map<string, Entry>();
  private readonly keysByTokenId = new Map<string, Set<string>>();
  private readonly inflight = new Map<string, Promise<VerifiedToken>>();
  /**
   * tokenId → when its revocation or rotation was seen. A lookup that started before that
   * instant may carry the old answer: a revoked token is then refused, a rotated one is
   * returned but not cached.
   */
  private readonly recentlyChanged = new Map<string, { at: number; revoked: boolean }>();
  private subscriptions: Subscription[] = [];
  private watchingStatus = false;
  private following?: { stop(): void; done: Promise<void> };
  private readingResolve?: () => void;
  /** Resolves once the EVENTS reader runs (its consumer exists): tests, and callers that must not miss a revocation. */
  readonly reading = new Promise<void>((resolve) => (this.readingResolve = resolve));
  /** Stream sequence of the last token event read from EVENTS: where a new reader resumes. */
  private lastSeq = 0;
  private readonly revokedListeners = new Set<(tokenId: string) => void>();
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly batcher?: VerifyBatcher;

  constructor(
    private readonly rpc: RpcClient,
    private readonly nc: NatsConnection,
    options: TokenVerifierOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.negativeTtlMs = options.negativeTtlMs ?? 5_000;
    this.maxEntries = options.maxEntries ?? 500_000;
    this.now = options.now ?? Date.now;
    if ((options.lookups ?? 'batched') === 'batched') this.batcher = new VerifyBatcher(rpc);
  }

  /** Starts listening for revocations and rotations; call once before serving. */
  start(): void {
    if (this.subscriptions.length) return;
    this.subscriptions = [
      this.listen(EventKinds.tokenRevoked, (tokenId) => this.invalidate(tokenId)),
      this.listen(EventKinds.tokenRotated, (tokenId) => this.forget(tokenId, false)),
    ];
    this.follow();
    if (this.watchingStatus) return;
    this.watchingStatus = true;
    void (async () => {
      for await (const status of this.nc.status()) {
        if (status.type === 'reconnect') this.expireWithin(RECONNECT_REVALIDATION_SPREAD_MS);
      }
    })();
  }

  stop(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions = [];
    this.following?.stop();
    this.following = undefined;
  }

  /** `listener(tokenId)` whenever a token is revoked (e.g. to close what was opened with it); returns an unsubscribe. */
  onRevoked(listener: (tokenId: string) => void): () => void {
    this.revokedListeners.add(listener);
    return () => this.revokedListeners.delete(listener);
  }

  /** Shortens every entry's life to a random moment within `spreadMs` from now. */
  expireWithin(spreadMs: number, random: () => number = Math.random): void {
    const now = this.now();
    for (const entry of this.entries.values()) entry.until = Math.min(entry.until, now + random() * spreadMs);
  }

  /** The cached answer, if any, without I/O: lets hot paths avoid an await per message. */
  peek(token: string): VerifiedToken | DomainError | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.until <= this.now()) {
      this.drop(token, entry);
      return undefined;
    }
    return entry.ok ? entry.value : entry.error;
  }

  async verify(token: string, expectedKind?: TokenKind): Promise<VerifiedToken> {
    const parsed = parseToken(token);
    if (!parsed) throw new TokenMalformedError();
    if (expectedKind && parsed.kind !== expectedKind)
      throw new TokenWrongKindError(expectedKind, parsed.kind);
    const cached = this.peek(token);
    if (cached instanceof DomainError) throw cached;
    if (cached) return cached;
    let pending = this.inflight.get(token);
    if (!pending) {
      pending = this.lookup(token).finally(() => this.inflight.delete(token));
      this.inflight.set(token, pending);
    }
    return pending;
  }

  /** The token was revoked: forget it, and refuse any lookup that raced the revocation. */
  invalidate(tokenId: string): void {
    this.forget(tokenId, true);
    for (const listener of this.revokedListeners) listener(tokenId);
  }

  clear(): void {
    this.entries.clear();
    this.keysByTokenId.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private listen(kind: string, onToken: (tokenId: string) => void): Subscription {
    return this.nc.subscribe(Subjects.event(kind), {
      callback: (err, msg) => {
        if (!err) this.apply(msg.data, onToken);
      },
    });
  }

  private apply(data: Uint8Array, onToken: (tokenId: string) => void): void {
    let tokenId: unknown;
    try {
      tokenId = json.decode(data).data?.tokenId;
    } catch {
      tokenId = undefined;
    }
    // An event that cannot name its token: drop everything rather than keep a revoked one.
    if (typeof tokenId === 'string') onToken(tokenId);
    else this.clear();
  }

  /**
   * Reads `events.token.*` from EVENTS with an ordered consumer (new events at first, then from the
   * last sequence seen), until stop(). Without the stream (not created yet, JetStream down) it tries
   * again every FOLLOW_RETRY_MS; the core subscription covers live events meanwhile.
   */
  private follow(): void {
    if (this.following) return;
    let stopped = false;
    let messages: ConsumerMessages | undefined;
    let timer: NodeJS.Timeout | undefined;
    let wake: (() => void) | undefined;
    const done = (async () => {
      while (!stopped) {
        try {
          const consumer = await this.nc.jetstream().consumers.get(Streams.events, {
            filterSubjects: Subjects.event('token.*'),
            ...(this.lastSeq
              ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.lastSeq + 1 }
              : { deliver_policy: DeliverPolicy.New }),
          });
          messages = await consumer.consume({ max_messages: 256 });
          if (stopped) break;
          this.readingResolve?.();
          for await (const message of messages) {
            this.lastSeq = message.seq;
            if (message.subject === Subjects.event(EventKinds.tokenRevoked))
              this.apply(message.data, (tokenId) => this.invalidate(tokenId));
            else if (message.subject === Subjects.event(EventKinds.tokenRotated))
              this.apply(message.data, (tokenId) => this.forget(tokenId, false));
          }
        } catch {
          // EVENTS not there yet, or JetStream unavailable: try again below.
        }
        if (stopped || this.nc.isClosed()) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, FOLLOW_RETRY_MS);
        });
      }
      await messages?.close().catch(() => undefined);
    })();
    this.following = {
      stop: () => {
        stopped = true;
        clearTimeout(timer);
        wake?.();
        messages?.stop();
      },
      done,
    };
  }

  private forget(tokenId: string, revoked: boolean): void {
    const now = this.now();
    const previous = this.recentlyChanged.get(tokenId);
    // Re-inserting keeps the map ordered by time, so pruning can stop at the first fresh entry.
    this.recentlyChanged.delete(tokenId);
    this.recentlyChanged.set(tokenId, { at: now, revoked: revoked || (previous?.revoked ?? false) });
    for (const [id, change] of this.recentlyChanged) {
      if (change.at >= now - this.ttlMs) break;
      this.recentlyChanged.delete(id);
    }
    for (const key of this.keysByTokenId.get(tokenId) ?? []) this.entries.delete(key);
    this.keysByTokenId.delete(tokenId);
  }

  private async lookup(token: string): Promise<VerifiedToken> {
    const startedAt = this.now();
    try {
      const value = await this.ask(token);
      const change = this.recentlyChanged.get(value.tokenId);
      const raced = change !== undefined && change.at >= startedAt;
      if (raced && change.revoked) throw new TokenRevokedError();
      if (!raced) {
        const expires = value.expiresAt ? Date.parse(value.expiresAt) : Infinity;
        this.remember(token, {
          ok: true,
          value,
          until: Math.min(this.now() + this.ttlMs, expires),
          tokenId: value.tokenId,
        });
      }
      return value;
    } catch (error) {
      if (error instanceof DomainError && CACHEABLE.has(error.code)) {
        this.remember(token, { ok: false, error, until: this.now() + this.negativeTtlMs });
      }
      throw error;
    }
  }

  private ask(token: string): Promise<VerifiedToken> {
    if (this.batcher) return this.batcher.verify(token);
    const request: VerifyTokenRequest = { token };
    return this.rpc.request<VerifiedToken>(Subjects.tokens.verify, request);
  }

  private remember(token: string, entry: Entry): void {
    // Bounded: when full, the oldest insertion goes first (Map keeps insertion order).
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.entries().next().value;
      if (oldest) this.drop(oldest[0], oldest[1]);
    }
    this.entries.set(token, entry);
    if (entry.tokenId) {
      let keys = this.keysByTokenId.get(entry.tokenId);
      if (!keys) this.keysByTokenId.set(entry.tokenId, (keys = new Set()));
      keys.add(token);
    }
  }

  private drop(token: string, entry: Entry): void {
    this.entries.delete(token);
    if (!entry.tokenId) return;
    const keys = this.keysByTokenId.get(entry.tokenId);
    keys?.delete(token);
    if (keys?.size === 0) this.keysByTokenId.delete(entry.tokenId);
  }
}
