import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { loadConfig } from '@app/config';

/** Environment variables the benchmarks read; every scenario gets this object, nothing reads process.env. */
export class BenchConfig {
  /** Runs per scenario; each figure reports the median with min/max over them. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(20)
  BENCH_RUNS: number = 3;

  /** PostgreSQL server for the PostgreSQL variants (a fresh database per run); unset = SQLite only. */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'must be a postgres:// URL' })
  TEST_DATABASE_URL?: string = undefined;

  /** Fleet sizes for the fleet-scale scenario, comma-separated. */
  @Matches(/^\d+(,\d+)*$/)
  BENCH_FLEET_SIZES: string = '1000,10000,100000';

  /** Seconds each fleet size is held at a 10 s heartbeat interval. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(600)
  BENCH_FLEET_SECONDS: number = 60;

  /** Agents enrolling at once in the enrollment storm. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(100_000)
  BENCH_ENROLL_STORM: number = 2000;

  /** Agents in the environment the config-push scenario saves a config for. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200_000)
  BENCH_CONFIG_AGENTS: number = 10_000;

  /** Metric batches/s (20 samples each) published steadily in the metrics-lag scenario, one run per rate. */
  @Matches(/^\d+(,\d+)*$/)
  BENCH_LAG_RATES: string = '250,1500';

  /** Seconds each metrics-lag rate is held. */
  @Type(() => Number)
  @IsInt()
  @Min(5)
  @Max(300)
  BENCH_LAG_SECONDS: number = 10;

  /** Minutes the ingestion-soak scenario runs (20 agents at 1 s). */
  @Type(() => Number)
  @IsInt()
  @Min(2)
  @Max(240)
  BENCH_SOAK_MINUTES: number = 15;

  /** SQLITE_CACHE_MIB given to ingestion in the soak; unset = ingestion's default. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(2)
  BENCH_SOAK_SQLITE_CACHE_MIB?: number = undefined;
}

let loaded: BenchConfig | undefined;

export function benchConfig(): BenchConfig {
  loaded ??= loadConfig(BenchConfig);
  return loaded;
}

export function fleetSizes(config: BenchConfig): number[] {
  return config.BENCH_FLEET_SIZES.split(',').map(Number);
}
