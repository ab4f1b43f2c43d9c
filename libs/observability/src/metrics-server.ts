import { createServer, Server } from 'node:http';
import { Registry } from 'prom-client';

/**
 * Serves `/metrics` (Prometheus text) and `/health` for services that have no HTTP API of
 * their own. `health` returns the failing dependencies (empty = healthy).
 */
export function startMetricsServer(
  port: number,
  registry: Registry,
  health: () => Promise<string[]> = async () => [],
  host = '0.0.0.0',
): Promise<Server> {
  const server = createServer((req, res) => {
    void (async () => {
      if (req.url === '/metrics') {
        res.setHeader('content-type', registry.contentType);
        res.end(await registry.metrics());
      } else if (req.url === '/health') {
        const failing = await health();
        res.statusCode = failing.length ? 503 : 200;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ status: failing.length ? 'error' : 'ok', failing }));
      } else {
        res.statusCode = 404;
        res.end();
      }
    })().catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
