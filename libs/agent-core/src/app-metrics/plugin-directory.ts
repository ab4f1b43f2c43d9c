import { lstatSync, readdirSync, Stats } from 'node:fs';
import { extname, join, resolve } from 'node:path';

/** Module files loaded as plugins; anything else in the directory is ignored (a README, a .d.ts, a map). */
const PLUGIN_EXTENSIONS = new Set(['.js', '.cjs', '.mjs']);
/** Plugins one agent loads at most: each is a worker thread. */
export const MAX_PLUGINS = 20;
export const PLUGIN_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,80}$/;

/** The plugin directory cannot be used at all; the agent refuses to start (exit code 64). */
export class PluginDirectoryError extends Error {}

/** A plugin file found in the directory: loadable, or refused with the reason (reported as its health). */
export interface PluginFile {
  /** The file's name without its extension: the plugin's name (`plugin:<name>`). */
  name: string;
  path: string;
  refused?: string;
}

/** Who the agent runs as; injectable so the ownership rule is testable without root. */
export interface ProcessOwner {
  uid: number;
}

/**
 * Why `stats` may not hold code the agent runs: not owned by the agent's user or root, or writable by
 * group or others (anyone else who could write there could run code as the agent). Windows has no such
 * modes: nothing is refused there.
 */
function ownershipProblem(what: string, stats: Stats, owner: ProcessOwner): string | undefined {
  if (process.platform === 'win32') return undefined;
  if (stats.uid !== owner.uid && stats.uid !== 0)
    return `${what} is owned by uid ${stats.uid}, not by the agent's user (uid ${owner.uid}) or root`;
  if (stats.mode & 0o022)
    return `${what} is writable by group or others (mode ${(stats.mode & 0o777).toString(8).padStart(4, '0')})`;
  return undefined;
}

/**
 * The plugin files of `dir` (RCA_PLUGIN_DIR), sorted by name. Throws PluginDirectoryError when the
 * directory is missing, not a directory, or fails the ownership rule; a file that fails it, a symbolic
 * link or a name that is not a plugin name is listed with `refused` set, and is never loaded.
 */
export function listPluginFiles(
  dir: string,
  owner: ProcessOwner = { uid: process.getuid?.() ?? 0 },
): PluginFile[] {
  const path = resolve(dir);
  let stats: Stats;
  try {
    stats = lstatSync(path);
  } catch (error) {
    throw new PluginDirectoryError(`RCA_PLUGIN_DIR: cannot read ${path}: ${(error as Error).message}`);
  }
  if (!stats.isDirectory()) throw new PluginDirectoryError(`RCA_PLUGIN_DIR: ${path} is not a directory`);
  const problem = ownershipProblem(`the plugin directory ${path}`, stats, owner);
  if (problem) throw new PluginDirectoryError(`RCA_PLUGIN_DIR: ${problem}; no plugin is loaded from it`);

  const files = readdirSync(path)
    .filter((entry) => PLUGIN_EXTENSIONS.has(extname(entry)))
    .sort();
  if (files.length > MAX_PLUGINS)
    throw new PluginDirectoryError(`RCA_PLUGIN_DIR: ${files.length} plugin files; at most ${MAX_PLUGINS}`);
  const seen = new Set<string>();
  return files.map((entry) => {
    const name = entry.slice(0, -extname(entry).length);
    const file = join(path, entry);
    const refuse = (reason: string): PluginFile => ({ name, path: file, refused: reason });
    if (!PLUGIN_NAME_PATTERN.test(name)) return refuse(`${entry}: the name must be 1-80 of A-Za-z0-9_.-`);
    if (seen.has(name)) return refuse(`${entry}: another file already defines plugin "${name}"`);
    seen.add(name);
    const fileStats = lstatSync(file);
    if (fileStats.isSymbolicLink()) return refuse(`${entry} is a symbolic link; plugins must be plain files`);
    if (!fileStats.isFile()) return refuse(`${entry} is not a file`);
    const fileProblem = ownershipProblem(entry, fileStats, owner);
    return fileProblem ? refuse(`${fileProblem}; not loaded`) : { name, path: file };
  });
}
