import { createReadStream } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import { DashboardFiles } from './dashboard-files';

/** Same-origin only: the app talks to this gateway and nothing else. uPlot and React style through the CSSOM. */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Agent Connector</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>The dashboard is not built yet</h1>
<p>The API is running (see <a href="/docs">/docs</a>). To serve the dashboard here, build it once:</p>
<pre style="background:#f4f4f5;padding:1rem">npm run build:dashboard</pre>
<p>(<code>npm run build</code> builds it too.) Then reload this page; no restart is needed.</p>
</body></html>
`;

type Request = IncomingMessage & { originalUrl?: string };

/**
 * Serves the built dashboard for GET/HEAD requests that no API route owns. Runs before the
 * router, so it passes everything reserved (`/api`, `/docs`, …) straight on.
 */
@Injectable()
export class DashboardMiddleware implements NestMiddleware<Request, ServerResponse> {
  constructor(@Inject(DashboardFiles) private readonly files: DashboardFiles) {}

  use(request: Request, response: ServerResponse, next: (error?: unknown) => void): void {
    if (request.method !== 'GET' && request.method !== 'HEAD') return next();
    const pathname = new URL(request.originalUrl ?? request.url ?? '/', 'http://gateway').pathname;
    if (DashboardFiles.isReserved(pathname)) return next();
    const acceptsHtml = (request.headers.accept ?? '').includes('text/html');

    if (!this.files.isBuilt()) {
      if (pathname !== '/' && !acceptsHtml) return next();
      response.writeHead(404, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' });
      response.end(request.method === 'HEAD' ? undefined : NOT_BUILT_PAGE);
      return;
    }

    const file = this.files.resolve(pathname, acceptsHtml);
    if (!file) return next();
    response.writeHead(200, {
      'Content-Type': file.contentType,
      'Content-Length': file.size,
      'Cache-Control': file.cacheControl,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      ...(file.contentType.startsWith('text/html')
        ? { 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'X-Frame-Options': 'DENY' }
        : {}),
    });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    createReadStream(file.path)
      .on('error', (error) => response.destroy(error))
      .pipe(response);
  }
}
