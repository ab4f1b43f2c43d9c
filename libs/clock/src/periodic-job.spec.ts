import { DependencyUnavailableError } from '@app/contracts';
import { PeriodicJob } from './periodic-job';

interface Started {
  resolve: (n: number) => void;
  reject: (error: unknown) => void;
}
/** Every pass started by any test, so that none is left hanging for the jobs' stop(). */
const everyPass: Started[] = [];

/** A pass the test finishes by hand, and how many passes were started. */
function passes() {
  const started: Started[] = [];
  const pass = () =>
    new Promise<number>((resolve, reject) => {
      started.push({ resolve, reject });
      everyPass.push({ resolve, reject });
    });
  return { started, pass, last: () => started[started.length - 1] };
}

describe(PeriodicJob.name, () => {
  let warned: unknown[][];
  const logger = { warn: (...args: unknown[]) => void warned.push(args) };
  const jobs: PeriodicJob<unknown>[] = [];
  const newJob = <T>(pass: () => Promise<T>, everySeconds = 1) => {
    const job = new PeriodicJob({ everySeconds, pass, logger, failureMessage: 'test run failed' });
    jobs.push(job);
    return job;
  };

  beforeEach(() => {
    warned = [];
    jest.useFakeTimers();
  });

  afterEach(async () => {
    everyPass.splice(0).forEach((pass) => pass.resolve(0));
    await Promise.all(jobs.splice(0).map((job) => job.stop()));
    jest.useRealTimers();
  });

  it('runs a pass every interval, and starts none while the previous one is still going', async () => {
    const { started, pass, last } = passes();
    newJob(pass, 2).start();
    await jest.advanceTimersByTimeAsync(1_999);
    expect(started).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(started).toHaveLength(1);

    await jest.advanceTimersByTimeAsync(10_000);
    expect(started).toHaveLength(1);

    last().resolve(1);
    await jest.advanceTimersByTimeAsync(2_000);
    expect(started).toHaveLength(2);
  });

  it('stop waits for the pass in flight, and no pass starts after it', async () => {
    const { started, pass, last } = passes();
    const job = newJob(pass);
    job.start();
    await jest.advanceTimersByTimeAsync(1_000);
    let stopped = false;
    const stopping = job.stop().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(5_000);
    expect(stopped).toBe(false);

    last().resolve(1);
    await stopping;
    await jest.advanceTimersByTimeAsync(5_000);
    expect(started).toHaveLength(1);
  });

  it('stop resolves when the pass in flight fails', async () => {
    const { pass, last } = passes();
    const job = newJob(pass);
    job.start();
    await jest.advanceTimersByTimeAsync(1_000);
    const stopping = job.stop();
    last().reject(new Error('disk full'));
    await expect(stopping).resolves.toBeUndefined();
  });

  it('logs a failed pass under its message and runs again on the next tick', async () => {
    const { started, pass, last } = passes();
    newJob(pass).start();
    await jest.advanceTimersByTimeAsync(1_000);
    const error = new Error('disk full');
    last().reject(error);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(warned).toEqual([[{ err: error }, 'test run failed']]);
    expect(started).toHaveLength(2);
  });

  it('does not log a pass that failed because a dependency is unavailable', async () => {
    const { started, pass, last } = passes();
    newJob(pass).start();
    await jest.advanceTimersByTimeAsync(1_000);
    last().reject(new DependencyUnavailableError('database'));
    await jest.advanceTimersByTimeAsync(1_000);
    expect(warned).toEqual([]);
    expect(started).toHaveLength(2);
  });

  it('never runs on its own with an interval of 0', async () => {
    const { started, pass } = passes();
    newJob(pass, 0).start();
    await jest.advanceTimersByTimeAsync(3_600_000);
    expect(started).toHaveLength(0);
  });

  it('lets callers share the pass in flight, with its result', async () => {
    const { started, pass, last } = passes();
    const job = newJob(pass);
    const [a, b] = [job.run(), job.run()];
    expect(started).toHaveLength(1);
    last().resolve(7);
    expect(await Promise.all([a, b])).toEqual([7, 7]);
    void job.run();
    expect(started).toHaveLength(2);
  });

  it('rejects a direct run with the error of its pass, also one thrown before any await', async () => {
    const error = new Error('bad config');
    let calls = 0;
    const job = newJob(() => {
      calls++;
      throw error;
    });
    await expect(job.run()).rejects.toBe(error);
    await expect(job.run()).rejects.toBe(error);
    expect(calls).toBe(2);
  });
});
