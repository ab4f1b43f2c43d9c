/**
 * The interface of an in-process plugin (docs/agent.md, "In-process plugins"). A plugin is a JavaScript
 * module (compiled from TypeScript, or written as .js/.cjs/.mjs) in RCA_PLUGIN_DIR whose default export
 * is an AgentPlugin; `definePlugin` only types it:
 *
 * ```ts
 * import { definePlugin } from '@rca/agent-plugin'; // or: import type { AgentPlugin } from …
 * export default definePlugin({
 *   name: 'queue-depth',            // = the file's name without extension: queue-depth.js
 *   interval: 30,
 *   async collect(ctx) {
 *     const depth = await fetchDepth({ signal: ctx.signal });
 *     return [{ name: 'queue_depth', value: depth, tags: { queue: 'mail' } }];
 *   },
 * });
 * ```
 *
 * Each plugin runs in a worker thread of its own: a plugin that throws, rejects, hangs, spins or exits
 * fails only its own runs (reported as its health), never the agent.
 */

/** One value a plugin reports; stored under `name` with `source=plugin`, `plugin=<name>` and its tags. */
export interface PluginSample {
  /** `[a-zA-Z_][a-zA-Z0-9_.:]{0,199}` */
  name: string;
  /** A finite number; NaN and ±Infinity are dropped. */
  value: number;
  tags?: Record<string, string>;
}

export interface PluginContext {
  /** Aborted when the run's timeout passes: give it to fetch() and the like. The run is then abandoned. */
  signal: AbortSignal;
  /** The plugin's interval in seconds. */
  intervalSeconds: number;
  /** Lines for the agent's log (debug level), tagged with the plugin. */
  log(message: string): void;
}

export interface AgentPlugin {
  /** 1–80 of `A-Za-z0-9_.-`: the same as the file's name without its extension. */
  name: string;
  /** Seconds between runs, 1–3600; default: the agent's collection interval. */
  interval?: number;
  /** Seconds a run may take, 0.1–60 and not above `interval`; default 5. */
  timeout?: number;
  collect(ctx: PluginContext): Promise<PluginSample[]>;
}

/** Types a plugin's default export (returns it unchanged). */
export function definePlugin(plugin: AgentPlugin): AgentPlugin {
  return plugin;
}
