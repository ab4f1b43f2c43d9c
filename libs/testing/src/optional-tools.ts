import { spawnSync } from 'node:child_process';
import { accessSync, appendFileSync, constants } from 'node:fs';

/**
 * Programs some tests need that `npm test` cannot install itself (README, "Testing"). Without
 * one, its tests are skipped and the run says so; under CI they fail instead, so a green CI run
 * always ran everything. Every spec that needs such a tool asks `requireTool`, nothing else.
 */

/** Where the dashboard tests find Chromium (Debian's package installs it here). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Read by libs/testing/src/optional-tools.reporter.js, which creates the file at the start of
 * the run, prints a line under each test file and the summary at the end.
 */
/** Where Debian's openssh-server installs the daemon (tests start it themselves, never as a service). */
export const SSHD_PATH = '/usr/sbin/sshd';

const RECORD_FILE_VARIABLE = 'RCA_OPTIONAL_TOOLS_FILE';

interface OptionalTool {
  /** How a person calls it in the skip line and the failure. */
  label: string;
  /** How to get it on Debian/Ubuntu: what .ci/run does. */
  install: string;
  /** Why it cannot be used here, or undefined when it can. */
  missing(): string | undefined;
}

const runs = (command: string, ...args: string[]) => spawnSync(command, args).status === 0;
const notInstalled = (command: string, ...args: string[]) =>
  runs(command, ...args) ? undefined : `${command} is not installed`;

const TOOLS = {
  chromium: {
    label: 'Chromium',
    install: 'apt-get install chromium (or set CHROMIUM_PATH)',
    missing: () => {
      try {
        accessSync(CHROMIUM_PATH, constants.X_OK);
        return undefined;
      } catch {
        return `no Chromium at ${CHROMIUM_PATH}`;
      }
    },
  },
  shellcheck: {
    label: 'shellcheck',
    install: 'apt-get install shellcheck',
    missing: () => notInstalled('shellcheck', '--version'),
  },
  'docker-compose': {
    label: 'docker-compose',
    install: 'apt-get install docker-compose (or the docker compose plugin)',
    missing: () =>
      runs('docker-compose', 'version') || runs('docker', 'compose', 'version')
        ? undefined
        : 'neither docker-compose nor the docker compose plugin is installed',
  },
  podman: {
    label: 'podman',
    install: 'apt-get install podman uidmap',
    missing: () => notInstalled('podman', '--version'),
  },
  sshd: {
    label: 'OpenSSH server',
    install: 'apt-get install openssh-server',
    missing: () => {
      try {
        accessSync(SSHD_PATH, constants.X_OK);
        return undefined;
      } catch {
        return `no sshd at ${SSHD_PATH}`;
      }
    },
  },
  unzip: {
    label: 'unzip',
    install: 'apt-get install unzip',
    missing: () => notInstalled('unzip', '-v'),
  },
  prometheus: {
    label: 'Prometheus',
    install: 'apt-get install prometheus (the server and promtool)',
    missing: () => notInstalled('prometheus', '--version') ?? notInstalled('promtool', '--version'),
  },
  'azure-cli': {
    label: 'Azure CLI',
    install: 'apt-get install azure-cli',
    missing: () => notInstalled('az', 'version'),
  },
  awscli: {
    label: 'AWS CLI',
    install: 'apt-get install awscli',
    missing: () => notInstalled('aws', '--version'),
  },
  postgresql: {
    label: 'PostgreSQL',
    install:
      'apt-get install postgresql, then TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm test',
    missing: () => (process.env.TEST_DATABASE_URL ? undefined : 'TEST_DATABASE_URL is not set'),
  },
} satisfies Record<string, OptionalTool>;

export type OptionalToolName = keyof typeof TOOLS;

/** What the reporter reads: one JSON object per line. */
export interface MissingToolRecord {
  testPath: string;
  tool: string;
  reason: string;
  install: string;
  /** True when the run requires every tool, so the test failed instead of being skipped. */
  failed: boolean;
}

export interface ToolGate {
  /** Whether the tool can be used here. */
  available: boolean;
  /** `describe`, or `describe.skip` when the tool is missing. */
  describe: jest.Describe;
  /** `it`, or `it.skip` when the tool is missing. */
  it: jest.It;
}

/** CI (and anyone who asks) must run every test: skipping would let a missing tool pass unseen. */
function everyToolRequired(): boolean {
  const ci = process.env.CI;
  return (Boolean(ci) && ci !== 'false' && ci !== '0') || process.env.REQUIRE_ALL_TOOLS === '1';
}

/** The spec file being collected, or undefined outside Jest (the benchmarks). */
export function currentTestFile(): string | undefined {
  return typeof expect === 'function' ? expect.getState().testPath : undefined;
}

// Jest gives every test file its own module registry, so this is per file.
const reported = new Set<OptionalToolName>();

/**
 * Call at the top of a spec file (or of a describe body): the tests registered through the
 * returned `describe`/`it` run when `tool` is here. When it is missing they are skipped and
 * recorded for the run's summary — or, when CI is set or REQUIRE_ALL_TOOLS=1, a test named
 * after the tool is added that fails with how to install it.
 */
export function requireTool(name: OptionalToolName): ToolGate {
  const tool: OptionalTool = TOOLS[name];
  const reason = tool.missing();
  if (reason === undefined) return { available: true, describe, it };

  const testPath = currentTestFile();
  if (testPath && !reported.has(name)) {
    reported.add(name);
    const failed = everyToolRequired();
    record({ testPath, tool: tool.label, reason, install: tool.install, failed });
    if (failed) {
      const message = `${tool.label} is required here (CI or REQUIRE_ALL_TOOLS=1 is set) but missing: ${reason}. Install it: ${tool.install}`;
      it(`needs ${tool.label}`, () => {
        const error = new Error(message);
        error.stack = message; // what is wrong is the machine, not a line of code: no stack to show
        throw error;
      });
    }
  }
  return { available: false, describe: describe.skip, it: it.skip };
}

function record(entry: MissingToolRecord): void {
  const file = process.env[RECORD_FILE_VARIABLE];
  if (file) appendFileSync(file, `${JSON.stringify(entry)}\n`);
  // Run without the reporter (e.g. `jest --reporters=default`): say it here instead.
  else process.stderr.write(`${entry.testPath}: ${entry.tool} missing (${entry.reason}): ${entry.install}\n`);
}

/** Whether `tool` is here, for code outside a spec file that only chooses what to run. */
export function toolAvailable(name: OptionalToolName): boolean {
  return TOOLS[name].missing() === undefined;
}
