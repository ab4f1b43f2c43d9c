import pino from 'pino';
import { AgentConfigDocument } from '@app/contracts';
import { RemoteConfigSync, resolveRuntimeSettings, RuntimeSettings, withLabels } from './remote-config';

const baseline: RuntimeSettings = {
  logLevel: 'info',
  heartbeatIntervalSeconds: 10,
  collectIntervalSeconds: 10,
  collectors: null,
  labels: {},
  appMetrics: {},
};
const available = ['cpu', 'memory', 'disk'];
const document = (version: number, settings: object): AgentConfigDocument => ({ version, settings });

describe(resolveRuntimeSettings.name, () => {
  it('applies the fields the config sets and keeps the start-up value of the others', () => {
    expect(
      resolveRuntimeSettings(
        document(3, { heartbeatIntervalSeconds: 2, collectors: ['cpu'] }),
        baseline,
        available,
      ),
    ).toEqual({ ...baseline, heartbeatIntervalSeconds: 2, collectors: ['cpu'] });
  });

  it.each([
    [{ collectors: ['gpu'] }, /unknown collector gpu/],
    [{ heartbeatIntervalSeconds: 0 }, /heartbeatIntervalSeconds/],
    [{ collectIntervalSeconds: 99999 }, /collectIntervalSeconds/],
    [{ logLevel: 'loud' }, /logLevel/],
    [{ labels: { 'a b': 'x' } }, /labels\.a b/],
    [{ somethingNew: true }, /somethingNew/],
    [{ appMetrics: { scrape_targets: [{ url: 'ftp://x' }] } }, /app_metrics\.scrape_targets\[0\]\.url/],
    [{ appMetrics: { influx: {} } }, /app_metrics\.influx: unknown section/],
    [{ appMetrics: { otlp: { address: 'nowhere' } } }, /app_metrics\.otlp\.address/],
  ])('rejects %j, saying why', (settings, reason) => {
    expect(() => resolveRuntimeSettings(document(4, settings), baseline, available)).toThrow(reason);
  });
});

describe(withLabels.name, () => {
  it("adds labels as tags without replacing a sample's own tags or passing the tag limit", () => {
    const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v']));
    const [tagged, full] = withLabels(
      [
        { name: 'a', value: 1, tags: { team: 'own' } },
        { name: 'b', value: 2 },
      ],
      { team: 'label', tier: 'web', ...many },
    );
    expect(tagged.tags).toMatchObject({ team: 'own', tier: 'web' });
    expect(Object.keys(full.tags!)).toHaveLength(16);
  });
});

describe(RemoteConfigSync.name, () => {
  const setup = (fetched: AgentConfigDocument) => {
    const acks: { version: number; applied: boolean; error?: string }[] = [];
    const applied: RuntimeSettings[] = [];
    const saved: AgentConfigDocument[] = [];
    const sync = new RemoteConfigSync(
      {
        fetchConfig: () => Promise.resolve(fetched),
        ackConfig: (ack) => Promise.resolve(void acks.push(ack)),
      },
      pino({ level: 'silent' }),
      (doc) => resolveRuntimeSettings(doc, baseline, available),
      (settings) => applied.push(settings),
      (doc) => saved.push(doc),
    );
    return { sync, acks, applied, saved };
  };

  it('applies and acknowledges a fetched config, and acknowledges it again when fetched again', async () => {
    const { sync, acks, applied } = setup(document(5, { logLevel: 'debug' }));
    await sync.fetch();
    await sync.fetch();
    expect(applied.map((s) => s.logLevel)).toEqual(['debug']);
    expect(acks).toEqual([
      { version: 5, applied: true },
      { version: 5, applied: true },
    ]);
    expect(sync.version).toBe(5);
  });

  it('keeps the last good config when a newer one is rejected, and reports the rejection', async () => {
    const { sync, acks, applied } = setup(document(5, { logLevel: 'debug' }));
    await sync.fetch();
    await sync.receive(document(6, { collectors: ['gpu'] }));
    expect(sync.version).toBe(5);
    expect(applied).toHaveLength(1);
    expect(acks[1]).toEqual({
      version: 6,
      applied: false,
      error: expect.stringMatching(/unknown collector gpu/),
    });
  });

  it('ignores a config older than the one it runs, and version 0 (nothing configured)', async () => {
    const { sync, acks } = setup(document(0, {}));
    await sync.fetch();
    await sync.receive(document(7, {}));
    await sync.receive(document(6, { logLevel: 'warn' }));
    expect(sync.version).toBe(7);
    expect(acks).toEqual([{ version: 7, applied: true }]);
  });

  it('runs the config saved before a restart when the current one is rejected', async () => {
    const { sync, acks, applied, saved } = setup(document(9, { collectors: ['gpu'] }));
    sync.restore(document(8, { heartbeatIntervalSeconds: 3 }));
    await sync.fetch();
    expect(sync.version).toBe(8);
    expect(applied.map((s) => s.heartbeatIntervalSeconds)).toEqual([3]);
    expect(acks).toEqual([{ version: 9, applied: false, error: expect.stringMatching(/gpu/) }]);
    expect(saved).toEqual([]);
  });

  it('saves each config it applies, to run it again after a restart', async () => {
    const { sync, saved } = setup(document(4, { logLevel: 'warn' }));
    await sync.fetch();
    expect(saved).toEqual([document(4, { logLevel: 'warn' })]);
  });
});
