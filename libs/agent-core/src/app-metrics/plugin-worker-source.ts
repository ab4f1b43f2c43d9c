/**
 * The code of a plugin's worker thread (run with `eval`, so the agent's bundle and binary need no
 * separate file). It imports the plugin, describes its export to the agent, and runs `collect` on
 * request with an AbortSignal that fires at the run's timeout. It trusts nothing the plugin does: an
 * export that is not a plugin is reported, not run; a result that cannot be sent is an error.
 */
export const PLUGIN_WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const { pathToFileURL } = require('node:url');
const send = (message) => parentPort.postMessage(message);
const text = (error) => (error && typeof error.message === 'string' ? error.message : String(error));
let plugin;

function describe(candidate) {
  if (candidate === null || typeof candidate !== 'object') return 'its default export is not an object';
  if (typeof candidate.collect !== 'function') return 'its default export has no collect() function';
  if (typeof candidate.name !== 'string') return 'its default export has no name';
  for (const key of ['interval', 'timeout'])
    if (candidate[key] !== undefined && typeof candidate[key] !== 'number') return key + ' must be a number of seconds';
  return undefined;
}

import(pathToFileURL(workerData.path).href).then(
  (module) => {
    let candidate = module.default;
    // TypeScript's CommonJS output: exports.default, with __esModule set.
    if (candidate && candidate.__esModule && candidate.default) candidate = candidate.default;
    const problem = describe(candidate);
    if (problem) return send({ type: 'loaded', error: problem });
    plugin = candidate;
    send({ type: 'loaded', name: plugin.name, interval: plugin.interval, timeout: plugin.timeout });
  },
  (error) => send({ type: 'loaded', error: 'cannot load it: ' + text(error) }),
);

parentPort.on('message', (message) => {
  if (message.type !== 'collect' || !plugin) return;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('timed out')), message.timeoutMs);
  const context = {
    signal: controller.signal,
    intervalSeconds: message.intervalSeconds,
    log: (line) => send({ type: 'log', message: String(line).slice(0, 1000) }),
  };
  Promise.resolve()
    .then(() => plugin.collect(context))
    .then(
      (samples) => {
        try {
          send({ type: 'result', id: message.id, samples });
        } catch (error) {
          send({ type: 'result', id: message.id, error: 'collect() returned something that cannot be sent: ' + text(error) });
        }
      },
      (error) => send({ type: 'result', id: message.id, error: text(error) }),
    )
    .finally(() => clearTimeout(timer));
});
`;
