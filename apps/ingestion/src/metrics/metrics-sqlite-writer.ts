import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { BatchColumns } from './batch-columns';

/** What the writer thread opens: the ingestion database file and the connection's tuning. */
export interface SqliteWriterOptions {
  file: string;
  /** Page cache in MiB (SQLITE_CACHE_MIB), when set. */
  cacheMib?: number;
  walCheckpointPages: number;
}

/** One fetch's batches as columns (handed to the thread without a copy), and the time to record them at. */
export interface SqliteWriteRequest extends BatchColumns {
  id: number;
  now: number;
}

export type SqliteWriteReply =
  | {
      id: number;
      ok: true;
      /** 1 where the batch's key was new (stored now), 0 where it was present. */ fresh: Uint8Array;
      samples: number;
    }
  | { id: number; ok: false; message: string; code?: string };

/** Asks the thread to close its connection and end, after the writes before it. */
export interface SqliteWriterClose {
  close: true;
}

type Settle = { resolve: (reply: SqliteWriteReply & { ok: true }) => void; reject: (error: Error) => void };

/**
 * The main-thread side of MetricsRepository's SQLite writes (metrics-sqlite-writer.worker.ts): requests are
 * answered in order by one thread holding its own connection. Started on first use (after the migrations);
 * a thread that dies fails what it had and is started again by the next write.
 */
export class MetricsSqliteWriter {
  private worker?: Worker;
  private readonly pending = new Map<number, Settle>();
  private nextId = 1;

  constructor(private readonly options: () => SqliteWriterOptions) {}

  write(request: Omit<SqliteWriteRequest, 'id'>): Promise<SqliteWriteReply & { ok: true }> {
    const worker = (this.worker ??= this.spawn());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id }, [
        request.offsets.buffer as ArrayBuffer,
        request.seriesIds.buffer as ArrayBuffer,
        request.ts.buffer as ArrayBuffer,
        request.values.buffer as ArrayBuffer,
      ]);
    });
  }

  /** Waits for the writes in hand, then closes the thread's connection. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    await new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      worker.postMessage({ close: true } satisfies SqliteWriterClose);
    });
    this.worker = undefined;
  }

  private spawn(): Worker {
    const file = join(__dirname, `metrics-sqlite-writer.worker${extname(__filename)}`);
    // From the TypeScript sources (tests, benches) the thread compiles its module as the parent does.
    const execArgv =
      extname(__filename) === '.ts' && !process.execArgv.some((a) => a.includes('@swc-node/register'))
        ? [...process.execArgv, '-r', require.resolve('@swc-node/register')]
        : undefined;
    const worker = new Worker(file, { workerData: this.options(), ...(execArgv ? { execArgv } : {}) });
    // The thread never keeps the process alive on its own; close() ends it on shutdown.
    worker.unref();
    worker.on('message', (reply: SqliteWriteReply) => {
      const settle = this.pending.get(reply.id);
      if (!settle) return;
      this.pending.delete(reply.id);
      if (reply.ok) settle.resolve(reply);
      else settle.reject(Object.assign(new Error(reply.message), reply.code ? { code: reply.code } : {}));
    });
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const settle of this.pending.values()) settle.reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the SQLite writer thread exited (code ${code})`)));
    return worker;
  }
}
