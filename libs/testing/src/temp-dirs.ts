import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The temporary directories a suite makes (state, sockets, install roots), all removed at its end. */
export class TempDirs {
  private readonly made: string[] = [];

  /** A new empty directory under the OS temp dir, named `<prefix><random>`. */
  make(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.made.push(dir);
    return dir;
  }

  removeAll(): void {
    for (const dir of this.made.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}
