import { Logger } from '@nestjs/common';
import { CompiledQuery, DatabaseConnection, Dialect, Driver } from 'kysely';
import { DependencyUnavailableError } from '@app/contracts';
import { DelegatingDriver, withDriver } from './delegating-driver';

/** How long the probe behind a failed query may take before the database counts as unavailable. */
const PROBE_TIMEOUT_MS = 2000;

/**
 * Error codes that mean "the database cannot serve", whatever the query: connection failures
 * (Node), PostgreSQL's classes 08 (connection), 53 (resources: disk full, out of memory, too many
 * connections), 57P (shutting down, starting up) and 58 (I/O), and SQLite's busy, full, I/O,
 * read-only and cannot-open results.
 */
const UNAVAILABLE_CODES =
  /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|08|53|57P|58|SQLITE_(BUSY|FULL|IOERR|READONLY|CANTOPEN|PROTOCOL|NOMEM))/;

/**
 * Whether a service's database can serve, judged from its own queries. A connection that cannot be
 * had, or a query that fails with a code meaning "unavailable" or with no code at all when a
 * `select 1` then fails too, turns into a
 * `DependencyUnavailableError` ("database unavailable", 503 at the gateway); any other failure (a
 * constraint, a bug) stays what it was. The outage is logged once when it starts and once when a
 * query succeeds again, however many requests and loops failed in between.
 */
export class DatabaseHealth {
  private readonly logger = new Logger('Database');
  private downSince?: number;

  constructor(
    private readonly location: string,
    private readonly probe: () => Promise<void>,
  ) {}

  get available(): boolean {
    return this.downSince === undefined;
  }

  /**
   * What to throw for a failed query: its own error, or DependencyUnavailableError. Failing to get a
   * connection at all (refused, not accepting connections, authentication) always means unavailable.
   */
  async explain(error: unknown, connecting = false): Promise<unknown> {
    if (error instanceof DependencyUnavailableError) return error;
    if (!connecting && !(await this.meansUnavailable(error))) return error;
    if (this.downSince === undefined) {
      this.downSince = performance.now();
      this.logger.error({ err: error, database: this.location }, 'database unavailable');
    }
    return new DependencyUnavailableError('database', error);
  }

  /** A query succeeded. */
  succeeded(): void {
    if (this.downSince === undefined) return;
    const seconds = (performance.now() - this.downSince) / 1000;
    this.downSince = undefined;
    this.logger.log(
      { database: this.location, unavailableSeconds: Math.round(seconds * 10) / 10 },
      'database available again',
    );
  }

  private async meansUnavailable(error: unknown): Promise<boolean> {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string') return UNAVAILABLE_CODES.test(code);
    // A dropped connection or a connect timeout carries no code: ask the database directly.
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.probe(),
        new Promise(
          (_, reject) => (timer = setTimeout(() => reject(new Error('probe timed out')), PROBE_TIMEOUT_MS)),
        ),
      ]);
      return false;
    } catch {
      return true;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** `dialect` with every query's failure passed through `health.explain` and its success reported. */
export function withHealth(dialect: Dialect, health: DatabaseHealth): Dialect {
  return withDriver(dialect, (driver) => new HealthTrackingDriver(driver, health));
}

class HealthTrackingDriver extends DelegatingDriver {
  constructor(
    inner: Driver,
    private readonly health: DatabaseHealth,
  ) {
    super(inner);
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    let connection: DatabaseConnection;
    try {
      connection = await this.inner.acquireConnection();
    } catch (error) {
      throw await this.health.explain(error, true);
    }
    return tracked(connection, this.health);
  }

  override releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(untracked.get(connection) ?? connection);
  }
}

/** Tracked connection → the driver's own, which its release needs (pg's keeps private fields). */
const untracked = new WeakMap<DatabaseConnection, DatabaseConnection>();

function tracked(connection: DatabaseConnection, health: DatabaseHealth): DatabaseConnection {
  const wrapper: DatabaseConnection = {
    async executeQuery<R>(query: CompiledQuery) {
      try {
        const result = await connection.executeQuery<R>(query);
        health.succeeded();
        return result;
      } catch (error) {
        throw await health.explain(error);
      }
    },
    streamQuery: <R>(query: CompiledQuery, chunkSize?: number) => connection.streamQuery<R>(query, chunkSize),
  };
  untracked.set(wrapper, connection);
  return wrapper;
}
