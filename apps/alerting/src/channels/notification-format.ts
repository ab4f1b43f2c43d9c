import { Alert, AlertChannelType, AlertTransition, AlertWebhookBody } from '@app/contracts';

/** One line a person reads first: in Slack, in a pager, in a log. */
export function notificationText(alert: Alert, transition: AlertTransition): string {
  const where = [alert.agentId && `agent ${alert.agentId}`, alert.environment && `in ${alert.environment}`]
    .filter(Boolean)
    .join(' ');
  const prefix = transition === 'firing' ? '[FIRING]' : '[RESOLVED]';
  return `${prefix} ${alert.ruleName}: ${alert.summary}${where ? ` (${where})` : ''}`;
}

/** The raw body for a channel type; the signature is computed over exactly this string. */
export function renderNotification(
  type: AlertChannelType,
  deliveryId: string,
  alert: Alert,
  transition: AlertTransition,
): string {
  const text = notificationText(alert, transition);
  if (type === 'slack') return JSON.stringify(slackMessage(alert, transition, text));
  const body: AlertWebhookBody = {
    delivery_id: deliveryId,
    transition,
    text,
    alert: {
      id: alert.id,
      rule_id: alert.ruleId,
      rule_name: alert.ruleName,
      kind: alert.kind,
      state: alert.state,
      agent_id: alert.agentId,
      environment: alert.environment,
      summary: alert.summary,
      opened_at: alert.openedAt,
      fired_at: alert.firedAt,
      resolved_at: alert.resolvedAt,
    },
  };
  return JSON.stringify(body);
}

interface SlackBlock {
  type: 'section' | 'context';
  text?: { type: 'mrkdwn'; text: string };
  elements?: { type: 'mrkdwn'; text: string }[];
}

/** Slack incoming-webhook format: `text` is the notification fallback, `blocks` the rendered message. */
function slackMessage(
  alert: Alert,
  transition: AlertTransition,
  text: string,
): { text: string; blocks: SlackBlock[] } {
  const emoji = transition === 'firing' ? ':rotating_light:' : ':white_check_mark:';
  const facts = [
    `*Rule:* ${alert.ruleName} (${alert.kind})`,
    alert.agentId ? `*Agent:* ${alert.agentId}` : null,
    alert.environment ? `*Environment:* ${alert.environment}` : null,
    `*Opened:* ${alert.openedAt}`,
    alert.resolvedAt ? `*Resolved:* ${alert.resolvedAt}` : null,
  ].filter((f): f is string => f !== null);
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${emoji} ${escapeSlack(text)}` } },
      { type: 'context', elements: facts.map((f) => ({ type: 'mrkdwn' as const, text: escapeSlack(f) })) },
    ],
  };
}

/** Slack treats `<`, `>` and `&` as markup; an agent id or rule name must not inject a link or mention. */
function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
