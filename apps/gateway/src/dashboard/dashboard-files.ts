import { existsSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';

/** Paths the API and the other gateway routes own: the dashboard never answers them. */
export const RESERVED_PREFIXES = [
  '/api',
  '/docs',
  '/health',
  '/install.sh',
  '/install.ps1',
  '/charts',
  '/metrics',
];

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** Vite puts content-hashed files under assets/: they never change, so browsers may keep them for good. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

export interface DashboardFile {
  path: string;
  contentType: string;
  cacheControl: string;
  size: number;
}

/**
 * Where the built dashboard is: `dist/dashboard`, found from the compiled gateway
 * (dist/apps/gateway/src/dashboard) or from the sources (apps/gateway/src/dashboard, tests).
 */
export function defaultDashboardDirectory(): string {
  const candidates = [
    resolve(__dirname, '../../../../dashboard'),
    resolve(__dirname, '../../../../dist/dashboard'),
  ];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[candidates.length - 1];
}

/**
 * Maps a request path to a file of the built single-page app. Real files are served as they
 * are; any other path that a browser navigates to (accepts HTML, no file extension) gets
 * index.html so client-side routes survive a reload. Nothing outside the directory is reachable.
 */
export class DashboardFiles {
  private readonly root: string;

  constructor(directory: string) {
    this.root = resolve(directory);
  }

  get directory(): string {
    return this.root;
  }

  /** Whether `npm run build:dashboard` has produced the app. */
  isBuilt(): boolean {
    return existsSync(join(this.root, 'index.html'));
  }

  static isReserved(pathname: string): boolean {
    return RESERVED_PREFIXES.some((prefix) => pathname === prefix || pathname.startsWith(prefix));
  }

  /** The file to send for `pathname`, or null when the dashboard has nothing to say about it. */
  resolve(pathname: string, acceptsHtml: boolean): DashboardFile | null {
    if (DashboardFiles.isReserved(pathname)) return null;
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return null;
    }
    if (decoded.includes('\0')) return null;
    const candidate = resolve(this.root, '.' + decoded);
    if (candidate !== this.root && !candidate.startsWith(this.root + sep)) return null;

    const file = this.file(candidate);
    if (file) return file;
    // Client-side routes have no extension; a missing /assets/x.js must stay a 404, not HTML.
    if (acceptsHtml && extname(decoded) === '') return this.file(join(this.root, 'index.html'));
    return null;
  }

  private file(path: string): DashboardFile | null {
    let size: number;
    try {
      const stats = statSync(path);
      if (!stats.isFile()) {
        return stats.isDirectory() ? this.file(join(path, 'index.html')) : null;
      }
      size = stats.size;
    } catch {
      return null;
    }
    const inAssets = path.startsWith(join(this.root, 'assets') + sep);
    return {
      path,
      contentType: CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
      cacheControl: inAssets ? IMMUTABLE : REVALIDATE,
      size,
    };
  }
}
