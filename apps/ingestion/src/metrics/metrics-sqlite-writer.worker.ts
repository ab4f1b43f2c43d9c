import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { chunksOf } from './batch-columns';
import type {
  SqliteWriteReply,
  SqliteWriteRequest,
  SqliteWriterClose,
  SqliteWriterOptions,
} from './metrics-sqlite-writer';

/**
 * MetricsRepository's SQLite write half, on a thread of its own: batch keys and chunks in one transaction on a
 * connection of its own, so ingestion's event loop decodes and checks the next fetch meanwhile. Only what
 * `storeBatches` writes per fetch runs here; everything else stays on the main connection (WAL: one writer at
 * a time, the other waits out `busy_timeout`).
 */
const options = workerData as SqliteWriterOptions;
const db = new SQLite(options.file);
// As libs/persistence opens the main connection; then this connection's own tuning (SQLITE_CACHE_MIB).
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
db.pragma('foreign_keys = ON');
if (options.cacheMib) db.pragma(`cache_size = -${Math.trunc(options.cacheMib * 1024)}`);
db.pragma(`wal_autocheckpoint = ${options.walCheckpointPages}`);

const insertKey = db.prepare(
  'insert into metric_batches (agent_id, seq, stored_at) values (?, ?, ?) on conflict (agent_id, seq) do nothing',
);
const insertChunk = db.prepare(
  'insert into metric_chunks (agent_id, hour_start, sample_count, compacted, data) values (?, ?, ?, 0, ?)',
);

/**
 * The (agent_id, seq) key first, "do nothing" on conflict; only batches whose key was new are encoded, one
 * chunk per agent and hour. Keys and chunks commit together or not at all.
 */
const store = db.transaction((r: SqliteWriteRequest) => {
  const fresh = new Uint8Array(r.agentIds.length);
  for (let bi = 0; bi < r.agentIds.length; bi++)
    fresh[bi] = insertKey.run(r.agentIds[bi], r.seqs[bi], r.now).changes;
  const { chunks, samples } = chunksOf(r, (bi) => fresh[bi] === 1);
  for (const c of chunks) insertChunk.run(c.agentId, c.hour, c.sampleCount, c.data);
  return { fresh, samples };
});

parentPort!.on('message', (message: SqliteWriteRequest | SqliteWriterClose) => {
  if ('close' in message) {
    // Every write before it has been answered (messages come in order); the thread ends once the port closes.
    db.close();
    parentPort!.close();
    return;
  }
  let reply: SqliteWriteReply;
  try {
    // The write lock at BEGIN, as the main connection takes it (libs/persistence/src/sqlite-immediate.ts).
    const { fresh, samples } = store.immediate(message);
    reply = { id: message.id, ok: true, fresh, samples };
  } catch (error) {
    const { message: text, code } = error as { message?: string; code?: unknown };
    reply = {
      id: message.id,
      ok: false,
      message: String(text),
      code: typeof code === 'string' ? code : undefined,
    };
  }
  parentPort!.postMessage(reply, reply.ok ? [reply.fresh.buffer as ArrayBuffer] : []);
});
