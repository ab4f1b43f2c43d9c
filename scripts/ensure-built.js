#!/usr/bin/env node
'use strict';
/**
 * Runs `npm run build` when dist/ is missing or older than any source under apps/ and libs/
 * (TypeScript, the dashboard's TSX/CSS/HTML, or the tsconfig files), so `npm run admin|agent|start`
 * never runs stale code; then lets scripts/build-agent.js bring dist/agent (bundle, binary) up to date. The build's output goes to stderr: stdout stays for the command that follows.
 * `--stamp` only records that a build just finished (the end of `npm run build`).
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const stamp = path.join(root, 'dist', '.build-stamp');
const SKIP = new Set(['node_modules', 'dist', 'testdata']);
const SOURCE = /\.(ts|tsx|css|html)$/;

if (process.argv.includes('--stamp')) {
  fs.mkdirSync(path.dirname(stamp), { recursive: true });
  fs.writeFileSync(stamp, `${new Date().toISOString()}\n`);
  process.exit(0);
}

function newestSource(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP.has(entry.name)) newest = Math.max(newest, newestSource(full));
    } else if (SOURCE.test(entry.name) && !entry.name.endsWith('.spec.ts')) {
      newest = Math.max(newest, fs.statSync(full).mtimeMs);
    }
  }
  return newest;
}

const sources = Math.max(
  newestSource(path.join(root, 'apps')),
  newestSource(path.join(root, 'libs')),
  ...['tsconfig.json', 'tsconfig.build.json'].map((f) => fs.statSync(path.join(root, f)).mtimeMs),
);
const complete = fs.existsSync(path.join(root, 'dist', 'dashboard', 'index.html'));
const built = complete && fs.existsSync(stamp) ? fs.statSync(stamp).mtimeMs : 0;
if (built >= sources) {
  // dist/ is current; the agent build keeps its own input hash (a no-op when nothing changed).
  const agent = spawnSync(process.execPath, [path.join(__dirname, 'build-agent.js')], { cwd: root, stdio: ['ignore', 2, 2] });
  process.exit(agent.status ?? 1);
}

process.stderr.write('Building (dist/ is missing or older than the sources)…\n');
const result = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 2, 2] });
if (result.status !== 0) process.exit(result.status ?? 1);
