import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Streams } from '@app/contracts';
import { userClaims } from './account-claims';
import {
  agentPermissions,
  customPermissions,
  permissionsMarkdown,
  PLATFORM_IDENTITIES,
  PlatformPermissions,
} from './bus-permissions';

const PROTOCOL_DOC = join(__dirname, '..', '..', '..', 'docs', 'protocol.md');

describe('bus permissions', () => {
  it('are the ones docs/protocol.md shows', () => {
    const doc = readFileSync(PROTOCOL_DOC, 'utf8');
    const shown = /<!-- permissions:start[^>]*-->\n([\s\S]*?)\n<!-- permissions:end -->/.exec(doc)?.[1];
    expect(shown).toBe(permissionsMarkdown());
  });

  it('grant no user a wildcard over everything, a purge, or the deletion of a stream that holds data', () => {
    for (const identity of PLATFORM_IDENTITIES) {
      const { publish, subscribe } = PlatformPermissions[identity];
      expect([...publish, ...subscribe]).not.toContain('>');
      expect(
        publish.filter((s) => /\$JS\.API\.(STREAM\.(DELETE|PURGE|MSG\.DELETE)|CONSUMER\.DELETE)/.test(s)),
      ).toEqual(identity === 'ingestion' ? [`$JS.API.STREAM.DELETE.${Streams.metricsSizeProbe}`] : []);
      // Ingestion answers by inbox (not allow_responses): exactly the identities that may request metrics.>.
      const requesters = PLATFORM_IDENTITIES.filter((i) =>
        PlatformPermissions[i].publish.includes('metrics.>'),
      );
      expect(publish.filter((s) => s.startsWith('_INBOX'))).toEqual(
        identity === 'ingestion' ? requesters.map((r) => `_INBOX_${r}.>`) : [],
      );
    }
    expect(PlatformPermissions.ingestion.respond).toBe(false);
  });

  it('let only the token service answer token requests and only platform users publish events', () => {
    const subscribers = PLATFORM_IDENTITIES.filter((i) =>
      PlatformPermissions[i].subscribe.some((s) => s.startsWith('tokens.')),
    );
    expect(subscribers).toEqual(['tokens']);
    expect(agentPermissions('prod', 'ag_1').publish.some((s) => s.startsWith('events.'))).toBe(false);
  });

  it('give an agent exactly its own subjects and inbox', () => {
    expect(agentPermissions('prod', 'ag_1')).toEqual({
      publish: [
        'agents.prod.ag_1.heartbeat',
        'agents.prod.ag_1.metrics',
        'agents.prod.ag_1.renew',
        'agents.prod.ag_1.config',
      ],
      subscribe: ['agents.prod.ag_1.control', '_INBOX_ag_1.>'],
      respond: false,
    });
  });
});

describe('user claims', () => {
  it('deny everything a user was not given, even when it was given nothing at all', () => {
    const claims = userClaims(customPermissions([], ['events.>']));
    expect(claims.pub).toEqual({ allow: [], deny: ['>'] });
    expect(claims.sub).toEqual({ allow: ['events.>'], deny: [] });
  });
});
