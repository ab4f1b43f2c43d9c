import { JSONCodec, NatsConnection } from 'nats';
import { DomainError, ErrorCodes } from '@app/contracts';
import { NatsServerHandle, startNatsServer, waitFor } from '@app/testing';
import { ConnectionState } from './connection-state';
import { connectNats } from './nats-connection';
import { RpcClient } from './rpc-client';

const json = JSONCodec<{ pattern: string; data: unknown; id: string }>();

/** A responder in Nest's envelope on its own connection, echoing the request's data. */
function respond(nc: NatsConnection, pattern: string): void {
  nc.subscribe(pattern, {
    callback: (_error, msg) => {
      const { data, id } = json.decode(msg.data);
      msg.respond(JSONCodec().encode({ id, response: data, isDisposed: true }));
    },
  });
}

describe('requests across a NATS restart', () => {
  let server: NatsServerHandle;
  let client: NatsConnection;
  let responder: NatsConnection;

  beforeEach(async () => {
    server = await startNatsServer();
    client = await connectNats({ url: server.url, name: 'client' });
    responder = await connectNats({ url: server.url, name: 'responder' });
    respond(responder, 'echo');
  });
  afterEach(async () => {
    await client.close();
    await responder.close();
    await server.dispose();
  });

  it('tracks the link going down and coming back', async () => {
    const state = ConnectionState.of(client);
    expect(state.isConnected).toBe(true);
    const reconnected = new Promise<boolean>((resolve) =>
      state.onReconnect(() => resolve(state.isConnected)),
    );
    await server.stop();
    await waitFor('the disconnect to be seen', () => !state.isConnected);
    expect(await state.waitUntilConnected(50)).toBe(false);
    await server.restart();
    expect(await reconnected).toBe(true);
    expect(await state.waitUntilConnected(50)).toBe(true);
  });

  it('a request made while the client reconnects waits for the link and gets its reply', async () => {
    const rpc = new RpcClient(client, 15_000);
    await server.stop();
    await waitFor('the disconnect to be seen', () => !ConnectionState.of(client).isConnected);
    // nats.js drops what is published while it redials; sent blindly, this request would time out.
    const answer = rpc.request<{ n: number }>('echo', { n: 7 });
    await new Promise((r) => setTimeout(r, 300));
    await server.restart();
    await expect(answer).resolves.toEqual({ n: 7 });
  });

  it('a request whose deadline passes before the link is back fails as UNAVAILABLE', async () => {
    const rpc = new RpcClient(client, 200);
    await server.stop();
    await waitFor('the disconnect to be seen', () => !ConnectionState.of(client).isConnected);
    const error = await rpc.request('echo', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe(ErrorCodes.UNAVAILABLE);
  });

  it('a request to a service still resubscribing is retried, and one nobody serves fails as UNAVAILABLE', async () => {
    const rpc = new RpcClient(client, 10_000);
    const late = rpc.request<{ n: number }>('late', { n: 1 });
    await new Promise((r) => setTimeout(r, 300));
    respond(responder, 'late');
    await expect(late).resolves.toEqual({ n: 1 });

    const startedAt = Date.now();
    const error = await rpc.request('nobody', {}).catch((e: unknown) => e);
    expect((error as DomainError).code).toBe(ErrorCodes.UNAVAILABLE);
    // Gives up after the retry window, long before the 10 s timeout.
    expect(Date.now() - startedAt).toBeLessThan(9000);
  });
});
