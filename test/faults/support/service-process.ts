import { ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentCommand } from '@app/testing';
import { REPO_ROOT } from '../../support/launcher';

/** What a process keeps of its output for failure messages: its last lines, not a whole run's. */
const OUTPUT_KEPT = 200_000;

/** A platform process from dist/ (`node dist/apps/<app>/src/main.js`, the agent from dist/agent) that a fault can kill -9 and a test restart. */
export class PlatformProcess {
  private child?: ChildProcess;
  private exit?: Promise<void>;
  private text = '';
  /** Where the current run's output starts in `text` (a restart keeps the earlier runs' output). */
  private runStart = 0;
  private lineHandler?: (line: string) => void;
  private partial = '';

  constructor(
    readonly name: string,
    private readonly app: string,
    private readonly env: () => NodeJS.ProcessEnv,
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Every stdout line (JSON logs), as it arrives. */
  onLine(handler: (line: string) => void): this {
    this.lineHandler = handler;
    return this;
  }

  start(): this {
    // The agent runs as customers run it (agentCommand: the Linux x64 executable, else the bundle).
    const { command, args } =
      this.app === 'agent'
        ? agentCommand()
        : { command: process.execPath, args: [join(REPO_ROOT, 'dist', 'apps', this.app, 'src', 'main.js')] };
    const child = spawn(command, args, {
      cwd: REPO_ROOT,
      env: this.env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.runStart = this.text.length;
    this.exit = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stdout?.on('data', (d: Buffer) => this.take(d.toString()));
    child.stderr?.on('data', (d: Buffer) => this.keep(d.toString()));
    // FAULTS_LOG_DIR=<dir>: every process's whole output lands there when it exits, to read after a run.
    const logDir = process.env.FAULTS_LOG_DIR;
    if (logDir) child.once('exit', () => writeFileSync(join(logDir, `${this.name}.log`), this.text));
    return this;
  }

  /**
   * Waits until `ready` is true of this run's output so far (after a restart, not the earlier run's),
   * failing at once if the process exits.
   */
  async waitFor(what: string, ready: (output: string) => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ready(this.text.slice(this.runStart))) {
      if (!this.running)
        throw new Error(`${this.name} exited before ${what}:\n${this.output().slice(-4000)}`);
      if (Date.now() > deadline)
        throw new Error(`${this.name}: no ${what} after ${timeoutMs} ms:\n${this.output().slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** kill -9. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** SIGTERM, SIGKILL after 10 s. */
  async stop(): Promise<void> {
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
    await this.signal('SIGTERM');
    clearTimeout(timer);
  }

  output(): string {
    return this.text;
  }

  /** The kept output's lines that contain `text`. */
  linesWith(text: string): string[] {
    return this.text.split('\n').filter((line) => line.includes(text));
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    if (!this.running) return;
    this.child!.kill(signal);
    await this.exit;
  }

  private take(chunk: string): void {
    this.keep(chunk);
    if (!this.lineHandler) return;
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.lineHandler(line);
  }

  private keep(chunk: string): void {
    this.text += chunk;
    if (this.text.length > OUTPUT_KEPT * 2) {
      const dropped = this.text.length - OUTPUT_KEPT;
      this.text = this.text.slice(dropped);
      this.runStart = Math.max(0, this.runStart - dropped);
    }
  }
}
