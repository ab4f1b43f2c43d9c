import { Injectable } from '@nestjs/common';
import { ALERT_DELIVERY_HEADER, ALERT_SIGNATURE_HEADER } from '@app/contracts';
import { signBody } from '../channels/notification-format';

export interface SendResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** How much of a failing receiver's answer goes into the delivery log. */
const MAX_ERROR_BODY = 300;

/**
 * One signed POST. A 2xx is success; anything else (including a redirect, which is not
 * followed: the configured URL is the one that was approved) is a failure with its reason.
 */
@Injectable()
export class WebhookSender {
  async send(
    url: string,
    rawBody: string,
    secret: string,
    deliveryId: string,
    timeoutMs: number,
  ): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const response = await fetch(url, {
        method: 'POST',
        body: rawBody,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'rca-alerting/1',
          [ALERT_SIGNATURE_HEADER]: signBody(secret, rawBody),
          [ALERT_DELIVERY_HEADER]: deliveryId,
        },
      });
      const ok = response.status >= 200 && response.status < 300;
      const text = ok ? '' : await response.text().catch(() => '');
      return {
        ok,
        statusCode: response.status,
        error: ok ? null : `HTTP ${response.status}${text ? `: ${text.slice(0, MAX_ERROR_BODY)}` : ''}`,
        durationMs: elapsed(),
      };
    } catch (error) {
      const reason =
        error instanceof Error && error.name === 'TimeoutError'
          ? `no answer within ${timeoutMs} ms`
          : error instanceof Error
            ? ((error.cause as Error | undefined)?.message ?? error.message)
            : String(error);
      return { ok: false, statusCode: null, error: reason, durationMs: elapsed() };
    }
  }
}
