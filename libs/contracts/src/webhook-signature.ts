import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures: `X-Rca-Signature: t=<unix seconds>,v1=<hex>`, where v1 is HMAC-SHA256 keyed
 * with the channel secret over `<t>.<raw body>` (the scheme Stripe and Slack use). The timestamp is
 * signed with the body, so a receiver that refuses old timestamps refuses a replayed request; each
 * retry is signed afresh. docs/api.md shows the verification for receivers.
 */
export const WEBHOOK_SIGNATURE_TOLERANCE_SECONDS = 300;

export function signWebhook(secret: string, rawBody: string, atSeconds: number): string {
  return `t=${atSeconds},v1=${webhookHmac(secret, atSeconds, rawBody)}`;
}

export type WebhookVerification = { ok: true; signedAt: number } | { ok: false; reason: string };

/** What a receiver does: check the signature and that it is recent (default ±5 minutes). */
export function verifyWebhook(
  secret: string,
  header: string | undefined,
  rawBody: string,
  { nowSeconds = Math.floor(Date.now() / 1000), toleranceSeconds = WEBHOOK_SIGNATURE_TOLERANCE_SECONDS } = {},
): WebhookVerification {
  const fields = new Map<string, string[]>();
  for (const part of (header ?? '').split(',')) {
    const [key, ...rest] = part.trim().split('=');
    if (key && rest.length) fields.set(key, [...(fields.get(key) ?? []), rest.join('=')]);
  }
  const t = Number(fields.get('t')?.[0]);
  if (!Number.isInteger(t)) return { ok: false, reason: 'no timestamp' };
  const expected = Buffer.from(webhookHmac(secret, t, rawBody));
  const matches = (fields.get('v1') ?? []).some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) return { ok: false, reason: 'signature does not match' };
  if (Math.abs(nowSeconds - t) > toleranceSeconds)
    return { ok: false, reason: `timestamp ${t} is outside the ${toleranceSeconds} s tolerance (a replay?)` };
  return { ok: true, signedAt: t };
}

function webhookHmac(secret: string, atSeconds: number, rawBody: string): string {
  return createHmac('sha256', secret).update(`${atSeconds}.${rawBody}`, 'utf8').digest('hex');
}
