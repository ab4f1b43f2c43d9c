import { AlertChannelType } from '@app/contracts';

/** Path segments at least this long may be tokens (Discord, Teams and many webhook URLs carry one). */
const TOKEN_LIKE_SEGMENT = 16;
const VISIBLE_PREFIX = 4;

/**
 * A channel URL as every response after creation shows it. A Slack incoming-webhook URL is the
 * credential itself, so only its origin remains; a webhook keeps its origin and short path
 * segments, while user info, the query and token-like segments are masked.
 */
export function maskChannelUrl(type: AlertChannelType, url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '…';
  }
  if (type === 'slack') return `${parsed.origin}/…`;
  const path = parsed.pathname
    .split('/')
    .map((segment) =>
      segment.length >= TOKEN_LIKE_SEGMENT ? `${segment.slice(0, VISIBLE_PREFIX)}…` : segment,
    )
    .join('/');
  return `${parsed.origin}${path}${parsed.search ? '?…' : ''}`;
}
