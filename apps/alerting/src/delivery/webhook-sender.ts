import { lookup as dnsLookup, LookupAddress, LookupOptions } from 'node:dns';
import { request as httpRequest, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { LookupFunction } from 'node:net';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { Clock, SystemClock } from '@app/clock';
import { ALERT_DELIVERY_HEADER, ALERT_SIGNATURE_HEADER, signWebhook } from '@app/contracts';
import { DestinationPolicy } from './destination-policy';

export interface SendResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  /** Retrying cannot help (the destination is not allowed): the delivery fails now. */
  final?: boolean;
}

/** How much of a failing receiver's answer goes into the delivery log. */
const MAX_ERROR_BODY = 300;

class RefusedDestination extends Error {}

/**
 * One signed POST. A 2xx is success; anything else (including a redirect, which is not
 * followed: the configured URL is the one that was approved) is a failure with its reason.
 * The connection goes only to an address the DestinationPolicy allows, checked on the address
 * actually dialled (after DNS), so a name re-pointed at an internal host is refused too.
 */
@Injectable()
export class WebhookSender {
  constructor(
    @Inject(DestinationPolicy) private readonly policy: DestinationPolicy,
    @Optional() @Inject(Clock) private readonly clock: Clock = new SystemClock(),
  ) {}

  async send(
    url: string,
    rawBody: string,
    secret: string,
    deliveryId: string,
    timeoutMs: number,
  ): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const literalRefusal = this.policy.refusalForUrl(url);
    if (literalRefusal)
      return { ok: false, statusCode: null, error: `refused: ${literalRefusal}`, durationMs: 0, final: true };
    try {
      const response = await this.post(url, rawBody, timeoutMs, {
        'content-type': 'application/json',
        'user-agent': 'rca-alerting/1',
        // Signed at sending time: every retry carries a fresh timestamp.
        [ALERT_SIGNATURE_HEADER]: signWebhook(secret, rawBody, Math.floor(this.clock.now() / 1000)),
        [ALERT_DELIVERY_HEADER]: deliveryId,
      });
      const ok = response.status >= 200 && response.status < 300;
      return {
        ok,
        statusCode: response.status,
        error: ok ? null : `HTTP ${response.status}${response.text ? `: ${response.text}` : ''}`,
        durationMs: elapsed(),
      };
    } catch (error) {
      if (error instanceof RefusedDestination)
        return {
          ok: false,
          statusCode: null,
          error: `refused: ${error.message}`,
          durationMs: elapsed(),
          final: true,
        };
      const reason =
        error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
          ? `no answer within ${timeoutMs} ms`
          : error instanceof Error
            ? error.message
            : String(error);
      return { ok: false, statusCode: null, error: reason, durationMs: elapsed() };
    }
  }

  private post(
    url: string,
    body: string,
    timeoutMs: number,
    headers: Record<string, string>,
  ): Promise<{ status: number; text: string }> {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const request = send(
        url,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
          signal: AbortSignal.timeout(timeoutMs),
          lookup: this.checkedLookup,
          agent: false,
        },
        (response: IncomingMessage) => {
          const status = response.statusCode ?? 0;
          const ok = status >= 200 && status < 300;
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            if (!ok && text.length < MAX_ERROR_BODY) text += chunk;
          });
          response.on('end', () => resolve({ status, text: text.slice(0, MAX_ERROR_BODY) }));
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  /** dns.lookup, then the policy on every address it returns: one internal address refuses the name. */
  private readonly checkedLookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...(options as LookupOptions), all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      for (const { address } of addresses) {
        const refusal = this.policy.refusal(address);
        if (refusal) return callback(new RefusedDestination(`${hostname} resolves to ${refusal}`), '', 0);
      }
      if ((options as LookupOptions).all) return (callback as unknown as AllCallback)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

type AllCallback = (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void;
