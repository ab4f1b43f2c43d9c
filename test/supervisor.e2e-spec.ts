import { spawn } from 'node:child_process';

/** The launcher's supervisor, plain JavaScript like the rest of scripts/. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { supervise } = require('../scripts/launcher/supervisor') as {
  supervise: (p: SuperviseParams) => Supervisor;
};

interface Child {
  pid: number;
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  stop(timeoutMs: number): Promise<void>;
  kill(): void;
}
interface SuperviseParams {
  name: string;
  start: () => Promise<Child>;
  log: (level: string, line: string) => void;
  onGiveUp: (reason: string, lastLines: string) => void;
  lastLines: () => string;
  policy?: Record<string, number>;
}
interface Supervisor {
  begin(): Promise<void>;
  pid(): number | undefined;
  restarts(): number;
  stop(timeoutMs: number): Promise<void>;
  kill(): void;
}

/** A real process running `script`; its exit is heard the way the launcher hears a service's. */
function nodeChild(script: string): Child {
  const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    pid: child.pid!,
    onExit: (listener) => void exited.then(({ code, signal }) => listener(code, signal)),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    kill: () => child.kill('SIGKILL'),
  };
}

const FAST = { initialDelayMs: 50, maxDelayMs: 400, stableAfterMs: 60_000, maxRestarts: 3, windowMs: 60_000 };
const RUN_FOREVER = 'setInterval(() => {}, 1000)';

function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (check()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(poll, 20);
    };
    poll();
  });
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm start supervisor (scripts/launcher/supervisor.js)', () => {
  let supervisor: Supervisor | undefined;
  afterEach(async () => {
    await supervisor?.stop(1000);
    supervisor = undefined;
  });

  it('restarts a child killed with SIGKILL, with a log line naming it, and keeps it running', async () => {
    const logs: string[] = [];
    const giveUps: string[] = [];
    supervisor = supervise({
      name: 'ingestion',
      start: async () => nodeChild(RUN_FOREVER),
      log: (level, line) => logs.push(`${level} ${line}`),
      onGiveUp: (reason) => giveUps.push(reason),
      lastLines: () => '',
      policy: FAST,
    });
    await supervisor.begin();
    const first = supervisor.pid()!;
    process.kill(first, 'SIGKILL');
    await waitFor('a new process', () => supervisor!.pid() !== undefined && supervisor!.pid() !== first);
    expect(isAlive(supervisor.pid()!)).toBe(true);
    expect(supervisor.restarts()).toBe(1);
    expect(logs[0]).toMatch(
      /^warn ingestion exited unexpectedly \(signal SIGKILL\) after .* restarting in [\d.]+ s/,
    );
    expect(logs[1]).toMatch(/^info ingestion restarted \(pid \d+; restart 1 since npm start\)/);
    expect(giveUps).toEqual([]);
  });

  it('backs off exponentially and gives up when the child keeps failing, with its last lines', async () => {
    const delays: number[] = [];
    let gaveUp: { reason: string; lastLines: string } | undefined;
    let lastExitAt: number | undefined;
    supervisor = supervise({
      name: 'tokens',
      start: async () => {
        if (lastExitAt !== undefined) delays.push(Date.now() - lastExitAt);
        const child = nodeChild('process.exit(3)');
        child.onExit(() => (lastExitAt = Date.now()));
        return child;
      },
      log: () => undefined,
      onGiveUp: (reason, lastLines) => (gaveUp = { reason, lastLines }),
      lastLines: () => 'database is locked',
      policy: FAST,
    });
    await supervisor.begin();
    await waitFor('the supervisor to give up', () => gaveUp !== undefined);
    expect(gaveUp!.reason).toMatch(
      /^tokens keeps failing: it exited 4 times within 60 s \(last: code 3\); stopping the platform$/,
    );
    expect(gaveUp!.lastLines).toBe('database is locked');
    // From each exit to the next start: 50, 100, 200 ms (timers fire late, never early).
    expect(delays).toHaveLength(3);
    expect(delays[0]).toBeGreaterThanOrEqual(45);
    expect(delays[1]).toBeGreaterThanOrEqual(95);
    expect(delays[2]).toBeGreaterThanOrEqual(195);
    expect(supervisor.pid()).toBeUndefined();
  });

  it('gives up at once on exit code 78: a refused configuration does not get better by restarting', async () => {
    let reason: string | undefined;
    let starts = 0;
    supervisor = supervise({
      name: 'gateway',
      start: async () => {
        starts += 1;
        return nodeChild('process.exit(78)');
      },
      log: () => undefined,
      onGiveUp: (why) => (reason = why),
      lastLines: () => '',
      policy: FAST,
    });
    await supervisor.begin();
    await waitFor('the supervisor to give up', () => reason !== undefined);
    expect(reason).toBe('gateway refused its configuration (exit code 78); stopping the platform');
    expect(starts).toBe(1);
  });

  it('with maxRestarts 0 (RESTART_LIMIT=0) the first unexpected exit stops the platform', async () => {
    let reason: string | undefined;
    supervisor = supervise({
      name: 'alerting',
      start: async () => nodeChild('process.exit(1)'),
      log: () => undefined,
      onGiveUp: (why) => (reason = why),
      lastLines: () => '',
      policy: { ...FAST, maxRestarts: 0 },
    });
    await supervisor.begin();
    await waitFor('the supervisor to give up', () => reason !== undefined);
    expect(reason).toBe('alerting exited unexpectedly (code 1); stopping the platform (RESTART_LIMIT=0)');
  });

  it('a restart that cannot start counts as a failure; stop() cancels a pending restart', async () => {
    let starts = 0;
    const logs: string[] = [];
    supervisor = supervise({
      name: 'nats-server',
      start: async () => {
        starts += 1;
        if (starts === 1) return nodeChild('process.exit(1)');
        throw new Error('nats-server exited with code 1. Last lines of nats-server.log:\n…');
      },
      log: (_level, line) => logs.push(line),
      onGiveUp: () => undefined,
      lastLines: () => '',
      policy: { ...FAST, initialDelayMs: 50, maxDelayMs: 5000 },
    });
    await supervisor.begin();
    await waitFor('the failed restart', () =>
      logs.some((l) => /could not start: nats-server exited/.test(l)),
    );
    const startsBeforeStop = starts;
    await supervisor.stop(1000);
    await new Promise((r) => setTimeout(r, 300));
    expect(starts).toBe(startsBeforeStop);
  });

  it('stop() ends the running child and it is not restarted', async () => {
    let starts = 0;
    supervisor = supervise({
      name: 'provisioning',
      start: async () => {
        starts += 1;
        return nodeChild(RUN_FOREVER);
      },
      log: () => undefined,
      onGiveUp: () => undefined,
      lastLines: () => '',
      policy: FAST,
    });
    await supervisor.begin();
    const pid = supervisor.pid()!;
    await supervisor.stop(1000);
    expect(isAlive(pid)).toBe(false);
    await new Promise((r) => setTimeout(r, 200));
    expect(starts).toBe(1);
  });
});
