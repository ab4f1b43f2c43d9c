'use strict';
/**
 * Keeps one child of `npm start` (a service or the launcher's own nats-server) running: when it dies
 * it is started again after a backoff, and the launcher gives up — stopping the platform — only when
 * the child keeps failing (more than `maxRestarts` exits within `windowMs`) or refuses its
 * configuration (exit code 78, EX_CONFIG: restarting cannot help).
 */

/** sysexits' EX_CONFIG: what a service exits with when its configuration is invalid. */
const EX_CONFIG = 78;

const DEFAULT_POLICY = {
  /** First restart after this; doubles per consecutive failure up to `maxDelayMs`. */
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  /** A child that ran this long before dying starts over at `initialDelayMs`. */
  stableAfterMs: 60_000,
  /** Restarts allowed within `windowMs`; 0 never restarts (the first unexpected exit stops the platform). */
  maxRestarts: 5,
  windowMs: 300_000,
};

function seconds(ms) {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/**
 * @param {object} p
 * @param {string} p.name what the logs call the child
 * @param {() => Promise<{pid: number, onExit(listener: (code: number|null, signal: string|null) => void): void, stop(timeoutMs: number): Promise<void>, kill(): void}>} p.start
 * @param {(level: 'info'|'warn'|'error', line: string) => void} p.log
 * @param {(reason: string, lastLines: string) => void} p.onGiveUp called once; the launcher stops everything
 * @param {() => string} p.lastLines the child's recent output, for the give-up message
 * @param {Partial<typeof DEFAULT_POLICY>} [p.policy]
 */
function supervise({ name, start, log, onGiveUp, lastLines, policy = {} }) {
  const settings = { ...DEFAULT_POLICY, ...policy };
  let current;
  let startedAt = 0;
  let stopped = false;
  let restartTimer;
  let consecutive = 0;
  /** When each restart in the current window happened. */
  let restarts = [];
  let restartCount = 0;

  const giveUp = (reason) => {
    if (stopped) return;
    stopped = true;
    onGiveUp(reason, lastLines());
  };

  const onChildExit = (code, signal, error) => {
    current = undefined;
    if (stopped) return;
    const ranMs = Date.now() - startedAt;
    const how = error ? `could not start: ${error}` : signal ? `signal ${signal}` : `code ${code}`;
    if (code === EX_CONFIG) {
      giveUp(`${name} refused its configuration (exit code ${EX_CONFIG}); stopping the platform`);
      return;
    }
    const now = Date.now();
    restarts = restarts.filter((at) => now - at < settings.windowMs);
    if (restarts.length >= settings.maxRestarts) {
      giveUp(
        settings.maxRestarts === 0
          ? `${name} exited unexpectedly (${how}); stopping the platform (RESTART_LIMIT=0)`
          : `${name} keeps failing: it exited ${restarts.length + 1} times within ${seconds(settings.windowMs)} (last: ${how}); stopping the platform`,
      );
      return;
    }
    if (ranMs >= settings.stableAfterMs) consecutive = 0;
    const delay = Math.min(settings.maxDelayMs, settings.initialDelayMs * 2 ** consecutive);
    consecutive += 1;
    restarts.push(now);
    log(
      'warn',
      `${name} exited unexpectedly (${how}) after ${seconds(ranMs)}; restarting in ${seconds(delay)} ` +
        `(${restarts.length} of ${settings.maxRestarts} restarts allowed within ${seconds(settings.windowMs)})`,
    );
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      void launch(true);
    }, delay);
  };

  const launch = async (isRestart) => {
    if (stopped) return;
    startedAt = Date.now();
    let child;
    try {
      child = await start();
    } catch (error) {
      if (!isRestart) throw error;
      onChildExit(null, null, error instanceof Error ? error.message.split('\n')[0] : String(error));
      return;
    }
    if (stopped) {
      await child.stop(0);
      return;
    }
    current = child;
    restartCount += isRestart ? 1 : 0;
    if (isRestart) log('info', `${name} restarted (pid ${child.pid}; restart ${restartCount} since npm start)`);
    child.onExit((code, signal) => {
      if (current === child) onChildExit(code, signal);
    });
  };

  return {
    name,
    /** Starts the child for the first time; a failure here is thrown (nothing to fall back to yet). */
    begin: () => launch(false),
    pid: () => current?.pid,
    isRunning: () => Boolean(current),
    /** How often the child was restarted since `npm start`. */
    restarts: () => restartCount,
    /** No more restarts; SIGTERM (SIGKILL after `timeoutMs`) and wait until the child is gone. */
    async stop(timeoutMs) {
      stopped = true;
      clearTimeout(restartTimer);
      const child = current;
      current = undefined;
      if (child) await child.stop(timeoutMs);
    },
    /** No more restarts; SIGKILL now. */
    kill() {
      stopped = true;
      clearTimeout(restartTimer);
      current?.kill();
    },
  };
}

module.exports = { supervise, DEFAULT_POLICY, EX_CONFIG };
