import { snakeCase, toSnakeCaseKeys } from './snake-case';

describe('snake_case HTTP bodies', () => {
  it('converts camelCase field names at every depth, in arrays too', () => {
    expect(snakeCase('occurredAt')).toBe('occurred_at');
    expect(
      toSnakeCaseKeys({
        agentId: 'a',
        data: { lastSeenAt: 1, nested: [{ silentForMs: 2 }] },
        items: [null, 3],
      }),
    ).toEqual({ agent_id: 'a', data: { last_seen_at: 1, nested: [{ silent_for_ms: 2 }] }, items: [null, 3] });
  });

  it('leaves the keys of labels, tags, config and reject reasons as the user or the service wrote them', () => {
    expect(
      toSnakeCaseKeys({
        labels: { teamName: 'x' },
        series: [{ tags: { mountPoint: '/' } }],
        config: { logLevel: 'info' },
        rejectedByReason: { badCredential: 2 },
      }),
    ).toEqual({
      labels: { teamName: 'x' },
      series: [{ tags: { mountPoint: '/' } }],
      config: { logLevel: 'info' },
      rejected_by_reason: { badCredential: 2 },
    });
  });
});
