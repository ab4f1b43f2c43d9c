import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { loadConfig, ConfigError } from '@app/config';
import { ManualClock } from '@app/clock';
import { ALERT_SIGNATURE_HEADER, verifyWebhook } from '@app/contracts';
import { AlertingConfig } from '../config';
import { DestinationPolicy } from './destination-policy';
import { WebhookSender } from './webhook-sender';

describe('WebhookSender against a real HTTP server on loopback', () => {
  let server: Server;
  let port: number;
  const received: IncomingMessage[] = [];
  const bodies: string[] = [];
  let answer = 204;

  beforeAll(async () => {
    server = createServer((request, response) => {
      received.push(request);
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        bodies.push(body);
        response.writeHead(answer).end(answer === 204 ? '' : 'receiver is down');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => {
    received.length = 0;
    bodies.length = 0;
    answer = 204;
  });

  const send = (sender: WebhookSender, url: string) => sender.send(url, '{"a":1}', 'secret', 'd1', 2000);

  it('refuses a loopback address by default, finally and without connecting', async () => {
    const result = await send(new WebhookSender(new DestinationPolicy()), `http://127.0.0.1:${port}/hook`);
    expect(result).toMatchObject({ ok: false, statusCode: null, final: true });
    expect(result.error).toMatch(/^refused: 127\.0\.0\.1 is a private, loopback or reserved address/);
    expect(received).toHaveLength(0);
  });

  it('refuses a name that resolves to loopback, checked on the address it dials', async () => {
    const result = await send(new WebhookSender(new DestinationPolicy()), `http://localhost:${port}/hook`);
    expect(result).toMatchObject({ ok: false, final: true });
    expect(result.error).toMatch(/^refused: localhost resolves to/);
    expect(received).toHaveLength(0);
  });

  it('delivers a signed POST where the operator allowed the network, and reports a failing answer', async () => {
    const sender = new WebhookSender(new DestinationPolicy('127.0.0.0/8,::1/128'));
    expect(await send(sender, `http://localhost:${port}/hook`)).toMatchObject({ ok: true, statusCode: 204 });
    expect(received[0].method).toBe('POST');
    expect(received[0].headers[ALERT_SIGNATURE_HEADER.toLowerCase()]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);

    answer = 503;
    const failed = await send(sender, `http://127.0.0.1:${port}/hook`);
    expect(failed).toMatchObject({ ok: false, statusCode: 503, error: 'HTTP 503: receiver is down' });
    expect(failed.final).toBeUndefined();
  });

  it('signs the send time with the body: a receiver detects a replay by its timestamp, and a changed body', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1, 12));
    const sender = new WebhookSender(new DestinationPolicy('127.0.0.0/8'), clock);
    await send(sender, `http://127.0.0.1:${port}/hook`);
    const header = received[0].headers[ALERT_SIGNATURE_HEADER.toLowerCase()] as string;
    const sentAt = clock.now() / 1000;
    expect(header).toMatch(new RegExp(`^t=${sentAt},v1=`));
    expect(verifyWebhook('secret', header, bodies[0], { nowSeconds: sentAt + 10 })).toEqual({
      ok: true,
      signedAt: sentAt,
    });
    // The same request replayed ten minutes later.
    expect(verifyWebhook('secret', header, bodies[0], { nowSeconds: sentAt + 600 })).toEqual({
      ok: false,
      reason: `timestamp ${sentAt} is outside the 300 s tolerance (a replay?)`,
    });
    // A fresher timestamp pasted onto the old signature, or another body: no match.
    const forged = header.replace(`t=${sentAt}`, `t=${sentAt + 600}`);
    expect(verifyWebhook('secret', forged, bodies[0], { nowSeconds: sentAt + 600 })).toMatchObject({
      ok: false,
    });
    expect(verifyWebhook('secret', header, '{"a":2}', { nowSeconds: sentAt })).toMatchObject({ ok: false });
    expect(verifyWebhook('other', header, bodies[0], { nowSeconds: sentAt })).toMatchObject({ ok: false });

    // A retry is signed afresh.
    clock.advance(60_000);
    await send(sender, `http://127.0.0.1:${port}/hook`);
    expect(received[1].headers[ALERT_SIGNATURE_HEADER.toLowerCase()]).toMatch(
      new RegExp(`^t=${sentAt + 60},v1=`),
    );
  });

  it('ALERT_WEBHOOK_ALLOWED_CIDRS is checked at start-up, naming the bad entry', () => {
    expect(() => loadConfig(AlertingConfig, { ALERT_WEBHOOK_ALLOWED_CIDRS: '10.0.0.0/8,10.0.0.1' })).toThrow(
      ConfigError,
    );
    expect(() => loadConfig(AlertingConfig, { ALERT_WEBHOOK_ALLOWED_CIDRS: '10.0.0.1' })).toThrow(
      /ALERT_WEBHOOK_ALLOWED_CIDRS: "10.0.0.1" is not a network/,
    );
    expect(loadConfig(AlertingConfig, {}).ALERT_WEBHOOK_ALLOWED_CIDRS).toBe('');
  });
});
