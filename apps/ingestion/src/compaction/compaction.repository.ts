import { Inject, Injectable } from '@nestjs/common';
import { Transaction } from 'kysely';
import { Database, DATABASE } from '@app/persistence';
import { IngestionDB } from '../database';
import { HOUR_MS } from '../metrics/chunk-codec';
import { asBuffer, RollupData } from '../metrics/stored-metrics.repository';
import { MetricRollup } from './hour-compactor';

/** Chunk ids per DELETE, metric names per SELECT: under SQLite's bound-parameter limit. */
const IDS_PER_STATEMENT = 5000;

/** The compaction job's writes: its work list, and an hour's chunks replaced by one with its rollups. */
@Injectable()
export class CompactionRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<IngestionDB>) {}

  /** (agent, hour) pairs with chunks not compacted yet, of hours that started before `before`. */
  async pendingHours(before: number, limit: number): Promise<{ agentId: string; hourStart: number }[]> {
    const rows = await this.database.db
      .selectFrom('metric_chunks')
      .select(['agent_id', 'hour_start'])
      .distinct()
      .where('compacted', '=', 0)
      .where('hour_start', '<', before)
      .orderBy('hour_start')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ agentId: r.agent_id, hourStart: Number(r.hour_start) }));
  }

  /**
   * Replaces the chunks `replaced` of one (agent, hour) by one compacted chunk and writes the hour's
   * 1-minute rollup of each metric, then those metrics' 1-hour rollups of the day from the day's
   * 1-minute rows, in one transaction. Returns false, changing nothing, when another instance
   * compacted some of those chunks first.
   */
  async replaceHour(
    agentId: string,
    hourStart: number,
    replaced: number[],
    merged: { data: Buffer; sampleCount: number },
    minuteRollups: MetricRollup[],
    day: { start: number; stepMs: number; minuteStepMs: number; build: (minutes: RollupData[]) => Buffer },
  ): Promise<boolean> {
    const CONFLICT = Symbol('compacted elsewhere');
    try {
      await this.database.db.transaction().execute(async (trx) => {
        let deleted = 0;
        for (let i = 0; i < replaced.length; i += IDS_PER_STATEMENT) {
          const result = await trx
            .deleteFrom('metric_chunks')
            .where('chunk_id', 'in', replaced.slice(i, i + IDS_PER_STATEMENT))
            .executeTakeFirst();
          deleted += Number(result.numDeletedRows);
        }
        if (deleted !== replaced.length) throw CONFLICT;
        await trx
          .insertInto('metric_chunks')
          .values({
            agent_id: agentId,
            hour_start: hourStart,
            sample_count: merged.sampleCount,
            compacted: 1,
            data: merged.data,
          })
          .execute();
        for (const { name, data } of minuteRollups)
          await this.upsertRollup(trx, agentId, name, day.minuteStepMs, hourStart, data);
        const names = minuteRollups.map((r) => r.name);
        const minutes = new Map<string, RollupData[]>();
        for (let i = 0; i < names.length; i += IDS_PER_STATEMENT) {
          const rows = await trx
            .selectFrom('metric_rollups')
            .select(['name', 'window_start', 'data'])
            .where('agent_id', '=', agentId)
            .where('name', 'in', names.slice(i, i + IDS_PER_STATEMENT))
            .where('step_ms', '=', day.minuteStepMs)
            .where('window_start', '>=', day.start)
            .where('window_start', '<', day.start + 24 * HOUR_MS)
            .execute();
          for (const r of rows) {
            let list = minutes.get(r.name);
            if (!list) minutes.set(r.name, (list = []));
            list.push({ windowStart: Number(r.window_start), data: asBuffer(r.data) });
          }
        }
        for (const [name, rows] of minutes)
          await this.upsertRollup(trx, agentId, name, day.stepMs, day.start, day.build(rows));
      });
      return true;
    } catch (error) {
      if (error === CONFLICT) return false;
      throw error;
    }
  }

  private async upsertRollup(
    trx: Transaction<IngestionDB>,
    agentId: string,
    name: string,
    stepMs: number,
    windowStart: number,
    data: Buffer,
  ): Promise<void> {
    await trx
      .insertInto('metric_rollups')
      .values({ agent_id: agentId, name, step_ms: stepMs, window_start: windowStart, data })
      .onConflict((oc) => oc.columns(['agent_id', 'name', 'step_ms', 'window_start']).doUpdateSet({ data }))
      .execute();
  }
}
