import { createConnection, createServer, Server, Socket } from 'node:net';

/**
 * A TCP forwarder on loopback that a test can cut and heal: a NATS route runs through one, so cutting
 * it is a network partition between two nodes (both processes keep running, each node's clients stay
 * connected to it, only the link between the nodes fails). The target port is asked for at each
 * connection, so the node behind it may restart on another port.
 */
export class CuttableLink {
  private readonly sockets = new Set<Socket>();
  private isCut = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly target: () => number | undefined,
  ) {
    server.on('connection', (socket) => this.forward(socket));
  }

  /** Listens on a port the system picks (no race on a "free" port). */
  static async open(target: () => number | undefined): Promise<CuttableLink> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('link did not get a port');
    return new CuttableLink(server, address.port, target);
  }

  /** Connections forwarded right now (both directions of a route count once each). */
  get connections(): number {
    return this.sockets.size / 2;
  }

  get cut(): boolean {
    return this.isCut;
  }

  /** Drops every connection and refuses new ones until heal(). */
  cutOff(): void {
    this.isCut = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  heal(): void {
    this.isCut = false;
  }

  async close(): Promise<void> {
    this.cutOff();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(inbound: Socket): void {
    const port = this.target();
    if (this.isCut || port === undefined) {
      inbound.destroy();
      return;
    }
    const outbound = createConnection({ host: '127.0.0.1', port });
    for (const [from, to] of [
      [inbound, outbound],
      [outbound, inbound],
    ] as const) {
      this.sockets.add(from);
      from.pipe(to);
      // A reset on one side ends the other: a route sees the failure as the network would show it.
      from.on('error', () => to.destroy());
      from.on('close', () => {
        this.sockets.delete(from);
        to.destroy();
      });
    }
  }
}
