import { NatsConnection, JSONCodec, Subscription } from 'nats';
import {
  DomainError,
  ErrorCodes,
  EventEnvelope,
  EventKinds,
  Subjects,
  TokenKind,
  TokenMalformedError,
  TokenRevokedError,
  TokenRevokedData,
  TokenWrongKindError,
  VerifiedToken,
  VerifyTokenRequest,
  parseToken,
} from '@app/contracts';
import { RpcClient } from '@app/messaging';

export interface TokenVerifierOptions {
  /** How long a positive answer is reused. Revocation events cut it short. */
  ttlMs?: number;
  /** How long "unknown/revoked/expired" is remembered, so a flood of bad tokens costs one lookup each. */
  negativeTtlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

type Entry = { ok: true; value: VerifiedToken; until: number } | { ok: false; error: DomainError; until: number };

const json = JSONCodec<EventEnvelope<TokenRevokedData>>();
/** Errors that are a property of the token, safe to cache; TIMEOUT/UNAVAILABLE are not. */
const CACHEABLE = new Set<string>([ErrorCodes.TOKEN_UNKNOWN, ErrorCodes.TOKEN_REVOKED, ErrorCodes.TOKEN_EXPIRED]);

/**
 * Verifies tokens through the token service with a per-process cache. A `token.revoked`
 * event removes the token's entries in every process that listens (within milliseconds);
 * after a NATS reconnect the whole cache is dropped, since events may have been missed.
 */
export class CachedTokenVerifier {
  private readonly entries = new Map<string, Entry>();
  private readonly keysByTokenId = new Map<string, Set<string>>();
  private readonly inflight = new Map<string, Promise<VerifiedToken>>();
  /** tokenId → when its revocation was seen; guards against caching a lookup that raced the event. */
  private readonly recentlyRevoked = new Map<string, number>();
  private subscription?: Subscription;
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly rpc: RpcClient,
    private readonly nc: NatsConnection,
    options: TokenVerifierOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.negativeTtlMs = options.negativeTtlMs ?? 5_000;
    this.maxEntries = options.maxEntries ?? 500_000;
    this.now = options.now ?? Date.now;
  }

  /** Starts listening for revocations; call once before serving. */
  start(): void {
    if (this.subscription) return;
    this.subscription = this.nc.subscribe(Subjects.event(EventKinds.tokenRevoked), {
      callback: (err, msg) => {
        if (err) return;
        try {
          this.invalidate(json.decode(msg.data).data.tokenId);
        } catch {
          // A malformed event cannot name a token; drop everything rather than keep a revoked one.
          this.clear();
        }
      },
    });
    void (async () => {
      for await (const status of this.nc.status()) {
        if (status.type === 'reconnect') this.clear();
      }
    })();
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  /** The cached answer, if any, without I/O: lets hot paths avoid an await per message. */
  peek(token: string): VerifiedToken | DomainError | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.until <= this.now()) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.ok ? entry.value : entry.error;
  }

  async verify(token: string, expectedKind?: TokenKind): Promise<VerifiedToken> {
    const parsed = parseToken(token);
    if (!parsed) throw new TokenMalformedError();
    if (expectedKind && parsed.kind !== expectedKind) throw new TokenWrongKindError(expectedKind, parsed.kind);
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

  invalidate(tokenId: string): void {
    const now = this.now();
    this.recentlyRevoked.set(tokenId, now);
    for (const [id, at] of this.recentlyRevoked) {
      if (at < now - this.ttlMs) this.recentlyRevoked.delete(id);
      else break;
    }
    for (const key of this.keysByTokenId.get(tokenId) ?? []) this.entries.delete(key);
    this.keysByTokenId.delete(tokenId);
  }

  clear(): void {
    this.entries.clear();
    this.keysByTokenId.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private async lookup(token: string): Promise<VerifiedToken> {
    const startedAt = this.now();
    try {
      const request: VerifyTokenRequest = { token };
      const value = await this.rpc.request<VerifiedToken>(Subjects.tokens.verify, request);
      const revokedAt = this.recentlyRevoked.get(value.tokenId);
      if (revokedAt !== undefined && revokedAt >= startedAt) throw new TokenRevokedError();
      const expires = value.expiresAt ? Date.parse(value.expiresAt) : Infinity;
      this.remember(token, { ok: true, value, until: Math.min(this.now() + this.ttlMs, expires) }, value.tokenId);
      return value;
    } catch (error) {
      if (error instanceof DomainError && CACHEABLE.has(error.code)) {
        this.remember(token, { ok: false, error, until: this.now() + this.negativeTtlMs });
      }
      throw error;
    }
  }

  private remember(token: string, entry: Entry, tokenId?: string): void {
    // Bounded: when full, the oldest insertion goes first (Map keeps insertion order).
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(token, entry);
    if (tokenId) {
      let keys = this.keysByTokenId.get(tokenId);
      if (!keys) this.keysByTokenId.set(tokenId, (keys = new Set()));
      keys.add(token);
    }
  }
}
