import { Controller, MessageEvent, Sse } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Observable } from 'rxjs';
import { CachedTokenVerifier } from '@app/auth';
import { ApiKeyAuth } from '../auth/api-key.guard';
import { AuthContext, CurrentOrg } from '../auth/current-org.decorator';
import { ApiContentResponse } from '../http/openapi.decorators';
import { EventHub } from './event-hub';
import { toSnakeCaseKeys } from './snake-case';

/** Keep-alive frame interval: proxies and browsers drop streams idle for ~60 s. */
export const KEEPALIVE_INTERVAL_MS = 20_000;

@ApiTags('events')
@Controller('api/v1/events')
export class EventsStreamController {
  constructor(
    private readonly hub: EventHub,
    private readonly verifier: CachedTokenVerifier,
  ) {}

  /**
   * Thin: the hub does the fan-out; this turns the caller's events into SSE frames. The key
   * travels in the Authorization header like every route (the dashboard reads the stream
   * with fetch(), so no secret ever goes into a URL or an access log).
   */
  @Sse('stream')
  @ApiKeyAuth()
  @ApiOperation({
    summary: 'Live events of the caller’s organisation (Server-Sent Events)',
    description:
      'Each EVENTS fact (agent.registered, agent.online, agent.offline, agent.revoked, token.*) is sent as an SSE ' +
      'frame whose `event:` is the kind and whose `data:` is the snake_case envelope. A `ready` frame opens the ' +
      `stream and a \`ping\` frame follows every ${KEEPALIVE_INTERVAL_MS / 1000} s; revoking the stream's API key ends it ` +
      'with a `revoked` frame. Events published while ' +
      'disconnected are not replayed: reload the lists over HTTP after reconnecting.',
  })
  @ApiContentResponse(
    'text/event-stream',
    'text',
    'SSE frames (`event: <kind>`, `data: <JSON>`) until the client disconnects or the key is revoked',
  )
  stream(@CurrentOrg() auth: AuthContext): Observable<MessageEvent> {
    return new Observable<MessageEvent>((subscriber) => {
      // "ready" goes first and only once the server has our subscription: a client that acts on it
      // (or a test that publishes then) must not lose the next event. Earlier events wait behind it.
      let early: MessageEvent[] | undefined = [];
      const stop = this.hub.listen(
        auth.organizationId,
        (event) => {
          const frame = { id: event.id, type: event.kind, data: toSnakeCaseKeys(event) as object };
          if (early) early.push(frame);
          else subscriber.next(frame);
        },
        () => subscriber.complete(),
      );
      void this.hub.subscribed().then(() => {
        if (subscriber.closed || !early) return;
        subscriber.next({ type: 'ready', data: { organization_id: auth.organizationId } });
        for (const frame of early) subscriber.next(frame);
        early = undefined;
      });
      // A stream lives as long as its key: revoking the key ends it (a last `revoked` frame says why).
      const stopWatchingKey = this.verifier.onRevoked((tokenId) => {
        if (tokenId !== auth.apiKeyId || subscriber.closed) return;
        subscriber.next({
          type: 'revoked',
          data: { code: 'TOKEN_REVOKED', message: 'the API key of this stream was revoked' },
        });
        subscriber.complete();
      });
      const keepalive = setInterval(
        () => subscriber.next({ type: 'ping', data: { at: Date.now() } }),
        KEEPALIVE_INTERVAL_MS,
      );
      return () => {
        clearInterval(keepalive);
        stopWatchingKey();
        stop();
      };
    });
  }
}
