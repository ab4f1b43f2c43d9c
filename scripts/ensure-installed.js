#!/usr/bin/env node
'use strict';
/**
 * Runs `npm ci` when node_modules is missing or was installed from another package-lock.json, so
 * that on a fresh clone `npm start` and `npm test` are the whole set-up (package.json runs this
 * before both). After its own install it keeps the lockfile's hash in node_modules; an install
 * made by hand (no hash) counts as current unless package-lock.json changed after it. The output
 * goes to stderr, like ensure-built.js.
 */
const { spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const modules = path.join(root, 'node_modules');
const lockfile = path.join(root, 'package-lock.json');
// npm writes this at the end of every install: without it there is no complete install.
const npmRecord = path.join(modules, '.package-lock.json');
const stamp = path.join(modules, '.installed-lockfile-sha256');

const lockHash = createHash('sha256').update(fs.readFileSync(lockfile)).digest('hex');

function staleReason() {
  if (!fs.existsSync(npmRecord)) return 'node_modules is missing';
  if (fs.existsSync(stamp)) {
    const installed = fs.readFileSync(stamp, 'utf8').trim();
    return installed === lockHash ? undefined : 'package-lock.json changed since the last install';
  }
  const lockChanged = fs.statSync(lockfile).mtimeMs > fs.statSync(npmRecord).mtimeMs;
  return lockChanged ? 'package-lock.json is newer than node_modules' : undefined;
}

const reason = staleReason();
if (!reason) process.exit(0);

// A linked node_modules belongs to another checkout (git worktrees sharing one install):
// npm ci here would empty it under that checkout's feet.
if (fs.lstatSync(modules, { throwIfNoEntry: false })?.isSymbolicLink()) {
  process.stderr.write(
    `${reason}, but node_modules is a link to ${fs.readlinkSync(modules)}: not reinstalling it from here (run npm ci there)\n`,
  );
  process.exit(0);
}

process.stderr.write(`Installing dependencies with npm ci (${reason})…\n`);
const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: ['ignore', 2, 2] });
if (result.status !== 0) {
  process.stderr.write('npm ci failed (see its output above)\n');
  process.exit(result.status ?? 1);
}
fs.writeFileSync(stamp, `${lockHash}\n`);
