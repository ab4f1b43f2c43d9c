'use strict';
/**
 * Jest reporter for optional-tools.ts: says under each test file which tool it lacked, and at
 * the end of the run lists every missing tool, the files it held back and how to install it.
 * Tests run in other module registries (or workers), so requireTool appends to a file whose
 * path this reporter puts in the environment before any test starts. JavaScript, not
 * TypeScript: Jest loads reporters without transforming them.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/** Same name as in optional-tools.ts. */
const RECORD_FILE_VARIABLE = 'RCA_OPTIONAL_TOOLS_FILE';

class OptionalToolsReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  // Before any test file runs (and before Jest starts its workers, which inherit the variable).
  onRunStart() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rca-optional-tools-'));
    this.file = path.join(this.dir, 'missing.jsonl');
    fs.writeFileSync(this.file, '');
    process.env[RECORD_FILE_VARIABLE] = this.file;
  }

  records() {
    if (!this.file || !fs.existsSync(this.file)) return [];
    return fs
      .readFileSync(this.file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  }

  onTestFileResult(test) {
    // A file whose every test was skipped gets no PASS line from Jest: this line names it.
    for (const entry of this.records().filter((r) => r.testPath === test.path)) {
      const outcome = entry.failed ? 'FAILED' : 'skipped';
      process.stderr.write(
        `${outcome} ${path.relative(this.rootDir, test.path)}: needs ${entry.tool} (${entry.reason}); install: ${entry.install}\n`,
      );
    }
  }

  onRunComplete() {
    const records = this.records();
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    delete process.env[RECORD_FILE_VARIABLE];
    if (records.length === 0) return;

    const byTool = new Map();
    for (const entry of records) {
      if (!byTool.has(entry.tool)) byTool.set(entry.tool, { ...entry, files: new Set() });
      byTool.get(entry.tool).files.add(path.relative(this.rootDir, entry.testPath));
    }
    const failed = records.some((r) => r.failed);
    const lines = [
      '',
      failed
        ? 'Missing tools: CI or REQUIRE_ALL_TOOLS=1 requires every one, so these tests FAILED:'
        : 'Skipped for want of optional tools (with CI=true or REQUIRE_ALL_TOOLS=1 these fail instead):',
    ];
    for (const { tool, reason, install, files } of byTool.values()) {
      lines.push(`  ${tool}: ${reason}. Install: ${install}`);
      for (const file of [...files].sort()) lines.push(`      ${file}`);
    }
    process.stderr.write(`${lines.join('\n')}\n\n`);
  }
}

module.exports = OptionalToolsReporter;
