import { Inject, Injectable } from '@nestjs/common';
import { Database, DATABASE } from '@app/persistence';
import { IngestionDB } from '../database';
import { HOUR_MS } from './chunk-codec';

export interface SeriesInfo {
  seriesId: number;
  name: string;
  /** Canonical JSON of the tag set. */
  tags: string;
  unit: string | null;
}

export interface ChunkData {
  chunkId: number;
  hourStart: number;
  compacted: boolean;
  data: Buffer;
}

export interface RollupData {
  windowStart: number;
  data: Buffer;
}

/** Reads of stored metrics: series, chunks and rollups of one agent or of an organisation's agents. */
@Injectable()
export class StoredMetricsRepository {
  constructor(@Inject(DATABASE) private readonly database: Database<IngestionDB>) {}

  /** One agent's series, all of them or those of one metric name (the unique key's prefix). */
  async seriesOf(agentId: string, name?: string): Promise<SeriesInfo[]> {
    let query = this.database.db
      .selectFrom('metric_series')
      .select(['series_id', 'name', 'tags', 'unit'])
      .where('agent_id', '=', agentId);
    if (name !== undefined) query = query.where('name', '=', name);
    const rows = await query.execute();
    return rows.map((r) => ({ seriesId: Number(r.series_id), name: r.name, tags: r.tags, unit: r.unit }));
  }

  /**
   * One agent's chunks of the hours in [fromHour, toExclusive): all of them, or only those not
   * compacted yet, plus the compacted ones of hours outside [keepFrom, keepTo) when given.
   */
  async chunksOf(
    agentId: string,
    fromHour: number,
    toExclusive: number,
    compacted: 'all' | { onlyOutside: [number, number] },
  ): Promise<ChunkData[]> {
    let query = this.database.db
      .selectFrom('metric_chunks')
      .select(['chunk_id', 'hour_start', 'compacted', 'data'])
      .where('agent_id', '=', agentId)
      .where('hour_start', '>=', fromHour)
      .where('hour_start', '<', toExclusive);
    if (compacted !== 'all') {
      const [keepFrom, keepTo] = compacted.onlyOutside;
      query = query.where((eb) =>
        eb.or([
          eb('compacted', '=', 0),
          eb('hour_start', '<', keepFrom),
          eb('hour_start', '>', keepTo - HOUR_MS),
        ]),
      );
    }
    const rows = await query.orderBy('hour_start').execute();
    return rows.map(toChunkData);
  }

  /** The series of one metric across an organisation's agents (its agents' rows joined by agent id). */
  async seriesOfOrganization(
    organizationId: string,
    name: string,
  ): Promise<(SeriesInfo & { agentId: string })[]> {
    const rows = await this.database.db
      .selectFrom('metric_series as s')
      .innerJoin('agents as a', 'a.agent_id', 's.agent_id')
      .select(['s.series_id', 's.agent_id', 's.name', 's.tags', 's.unit'])
      .where('a.organization_id', '=', organizationId)
      .where('s.name', '=', name)
      .execute();
    return rows.map((r) => ({
      seriesId: Number(r.series_id),
      agentId: r.agent_id,
      name: r.name,
      tags: r.tags,
      unit: r.unit,
    }));
  }

  /** One metric's rollup rows of every agent of an organisation at one step, windows starting in [fromWindow, toExclusive). */
  async rollupsOfOrganization(
    organizationId: string,
    name: string,
    stepMs: number,
    fromWindow: number,
    toExclusive: number,
  ): Promise<RollupData[]> {
    const rows = await this.database.db
      .selectFrom('metric_rollups as r')
      .innerJoin('agents as a', 'a.agent_id', 'r.agent_id')
      .select(['r.window_start', 'r.data'])
      .where('a.organization_id', '=', organizationId)
      .where('r.name', '=', name)
      .where('r.step_ms', '=', stepMs)
      .where('r.window_start', '>=', fromWindow)
      .where('r.window_start', '<', toExclusive)
      .execute();
    return rows.map((r) => ({ windowStart: Number(r.window_start), data: asBuffer(r.data) }));
  }

  /** chunksOf for every agent of an organisation. */
  async chunksOfOrganization(
    organizationId: string,
    fromHour: number,
    toExclusive: number,
    compacted: 'all' | { onlyOutside: [number, number] },
  ): Promise<ChunkData[]> {
    let query = this.database.db
      .selectFrom('metric_chunks as c')
      .innerJoin('agents as a', 'a.agent_id', 'c.agent_id')
      .select(['c.chunk_id', 'c.hour_start', 'c.compacted', 'c.data'])
      .where('a.organization_id', '=', organizationId)
      .where('c.hour_start', '>=', fromHour)
      .where('c.hour_start', '<', toExclusive);
    if (compacted !== 'all') {
      const [keepFrom, keepTo] = compacted.onlyOutside;
      query = query.where((eb) =>
        eb.or([
          eb('c.compacted', '=', 0),
          eb('c.hour_start', '<', keepFrom),
          eb('c.hour_start', '>', keepTo - HOUR_MS),
        ]),
      );
    }
    return (await query.execute()).map(toChunkData);
  }

  /** One agent's newest uncompacted chunks (the hours the compaction job has not merged yet). */
  async newestPendingChunks(agentId: string, limit: number): Promise<ChunkData[]> {
    const rows = await this.database.db
      .selectFrom('metric_chunks')
      .select(['chunk_id', 'hour_start', 'compacted', 'data'])
      .where('agent_id', '=', agentId)
      .where('compacted', '=', 0)
      .orderBy('hour_start', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toChunkData);
  }

  /**
   * Rollup rows of one agent at one step, windows starting in [fromWindow, toExclusive): of one metric
   * (the primary key's prefix: a chart reads only its metric's rows), or of all of them.
   */
  async rollupsOf(
    agentId: string,
    stepMs: number,
    fromWindow: number,
    toExclusive: number,
    name?: string,
  ): Promise<RollupData[]> {
    let query = this.database.db
      .selectFrom('metric_rollups')
      .select(['window_start', 'data'])
      .where('agent_id', '=', agentId)
      .where('step_ms', '=', stepMs)
      .where('window_start', '>=', fromWindow)
      .where('window_start', '<', toExclusive);
    if (name !== undefined) query = query.where('name', '=', name);
    const rows = await query.orderBy('window_start').execute();
    return rows.map((r) => ({ windowStart: Number(r.window_start), data: asBuffer(r.data) }));
  }

  /** One agent's newest rollup rows of one metric at one step, newest first. */
  async newestRollups(agentId: string, name: string, stepMs: number, limit: number): Promise<RollupData[]> {
    const rows = await this.database.db
      .selectFrom('metric_rollups')
      .select(['window_start', 'data'])
      .where('agent_id', '=', agentId)
      .where('name', '=', name)
      .where('step_ms', '=', stepMs)
      .orderBy('window_start', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ windowStart: Number(r.window_start), data: asBuffer(r.data) }));
  }
}

export function asBuffer(data: Buffer | Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data);
}

export function toChunkData(r: {
  chunk_id: number;
  hour_start: number;
  compacted: number;
  data: Buffer;
}): ChunkData {
  return {
    chunkId: Number(r.chunk_id),
    hourStart: Number(r.hour_start),
    compacted: Number(r.compacted) === 1,
    data: asBuffer(r.data),
  };
}
