import { Events, NatsConnection } from 'nats';

/**
 * Whether a connection is up, from its status events. nats.js discards whatever is published
 * while it reconnects (each dial resets its outbound buffer), so a request sent then is lost and
 * can only time out; callers wait for the link instead, within their own deadline.
 */
export class ConnectionState {
  private static readonly byConnection = new WeakMap<NatsConnection, ConnectionState>();
  private connected = true;
  private readonly waiters = new Set<() => void>();
  private readonly reconnectListeners: (() => void)[] = [];

  /** One tracker per connection, started on first use (connections are handed out connected). */
  static of(nc: NatsConnection): ConnectionState {
    let state = ConnectionState.byConnection.get(nc);
    if (!state) {
      state = new ConnectionState(nc);
      ConnectionState.byConnection.set(nc, state);
    }
    return state;
  }

  private constructor(private readonly nc: NatsConnection) {
    void this.watch();
  }

  get isConnected(): boolean {
    return this.connected && !this.nc.isClosed();
  }

  /** True at once when connected; otherwise when the link is back, or false after `timeoutMs`. */
  waitUntilConnected(timeoutMs: number): Promise<boolean> | boolean {
    if (this.isConnected) return true;
    if (this.nc.isClosed()) return false;
    return new Promise<boolean>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve(this.isConnected);
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  /** Called after each reconnect, once `isConnected` is true again. */
  onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }

  private async watch(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === Events.Disconnect) this.connected = false;
      else if (status.type === Events.Reconnect) {
        this.connected = true;
        for (const wake of [...this.waiters]) wake();
        for (const listener of this.reconnectListeners) listener();
      }
    }
    // The iterator ends when the connection closes: nobody waits for a link that will not return.
    for (const wake of [...this.waiters]) wake();
  }
}
