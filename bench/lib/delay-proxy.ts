/**
 * A TCP proxy that holds every chunk DELAY_MS in each direction: a database at network distance, on one
 * machine (`tc netem` needs kernel modules this machine lacks). Order is kept: timers of equal delay fire
 * in the order they were set.
 *
 *   node -r @swc-node/register bench/lib/delay-proxy.ts <listen port> <target port> <delay ms>
 */
import { connect, createServer, Socket } from 'node:net';

const [listen, target, delay] = process.argv.slice(2).map(Number);

function pipe(from: Socket, to: Socket): void {
  from.on('data', (chunk: Buffer) => setTimeout(() => to.write(chunk), delay));
}

createServer((client) => {
  const server = connect(target, '127.0.0.1');
  const end = () => {
    client.destroy();
    server.destroy();
  };
  pipe(client, server);
  pipe(server, client);
  for (const socket of [client, server]) socket.on('close', end).on('error', end);
}).listen(listen, '127.0.0.1');
