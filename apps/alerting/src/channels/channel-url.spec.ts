import { maskChannelUrl } from './channel-url';

describe(maskChannelUrl.name, () => {
  it('shows only the origin of a Slack URL, which is the credential itself', () => {
    expect(
      maskChannelUrl('slack', 'https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX'),
    ).toBe('https://hooks.slack.com/…');
  });

  it('keeps a webhook’s origin and short path, masking user info, the query and token-like segments', () => {
    expect(maskChannelUrl('webhook', 'https://ops.example.com/hooks/alerts')).toBe(
      'https://ops.example.com/hooks/alerts',
    );
    expect(
      maskChannelUrl(
        'webhook',
        'https://user:pw@ops.example.com/api/webhooks/123/abcdefghijklmnopqrstuvwxyz?token=s3cret',
      ),
    ).toBe('https://ops.example.com/api/webhooks/123/abcd…?…');
  });
});
