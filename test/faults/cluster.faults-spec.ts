import { NatsConnection } from 'nats';
import { EventKinds, Streams } from '@app/contracts';
import {
  createTestDatabase,
  NatsClusterHandle,
  requireTool,
  startNatsCluster,
  TestDatabase,
  waitFor,
} from '@app/testing';
import { BUILD_TIMEOUT_MS, ensureBuilt } from '../support/launcher';
import { ClusterPlatform, clusterPlatform, ServiceInstance } from './support/cluster-platform';
import {
  agentFigures,
  FaultFigures,
  FaultWindow,
  LiveEvents,
  livenessEvents,
  renderFigures,
  RequestProbe,
  StoredBatches,
} from './support/fault-figures';
import { FleetAgent, startFleet } from './support/fleet';
import { explainGaps, MissingBatch, streamSequences } from './support/gap-diagnosis';

/**
 * Scale-out shown, not stated: the platform as docs/running-a-cluster.md runs it — three nats-server
 * nodes routed in a cluster (operator mode, TLS, JetStream on each), every stream at three replicas, two
 * instances of every service on PostgreSQL (`a` on n0, `b` on n1), two real agents on each node — and
 * the faults a cluster is for. Each fault is measured over its window from the agents' own numbering
 * (published), ingestion's table (stored), the EVENTS stream (agent.offline/online) and requests to the
 * gateways, and the figures are printed at the end (RELIABILITY.md, "Fault suite").
 */
const STREAMS = [Streams.metrics, Streams.events, Streams.deadLetter];
/** How long a fault's traffic may take to be stored once repaired: JetStream redelivers after its 10 s ack wait. */
const SETTLE_TIMEOUT_MS = 60_000;
const FAULT_TIMEOUT_MS = 300_000;
/**
 * After the settle, how long the metrics audit may still take to reach batches it has not judged yet: it runs
 * every 5 s on batches older than 20 s, and a holder killed mid-pass keeps its lease for 20 s.
 */
const AUDIT_CATCH_UP_MS = 60_000;

const postgres = requireTool('postgresql');

/** The nodes an agent is connected to: those with a subscription naming it (each subscribes to its own control subject). */
function nodesOf(subscriptions: Map<string, string[]>, agent: FleetAgent): string[] {
  return [...subscriptions]
    .filter(([, subjects]) => subjects.some((s) => s.includes(agent.id)))
    .map(([node]) => node);
}

/** A service's pino lines at warn or above, and the metrics audit's, since `since` (ms), the last 40. */
function warnings(output: string, since: number): string {
  return output
    .split('\n')
    .filter((line) => {
      try {
        const entry = JSON.parse(line) as { level?: number; time?: number; context?: string };
        return ((entry.level ?? 0) >= 40 || entry.context === 'MetricsAudit') && (entry.time ?? 0) >= since;
      } catch {
        return false;
      }
    })
    .slice(-40)
    .join('\n');
}

/**
 * A fault test that fails is run again (its afterEach repairs the cluster first, and every test starts
 * from the layout with the whole fleet online), up to twice, with the
 * failure printed before the retry so CI logs keep it. Why: on 2 busy cores one rare outcome is not yet
 * explained — a false offline/online of an agent outside a partition (RELIABILITY.md, "Open findings"). Batches
 * nats-server 2.9.10 skipped in a consumer leader change are stored by ingestion's audit (RELIABILITY.md §8) and
 * printed per window. A regression that fails every time still fails the run.
 */
jest.retryTimes(2, { logErrorsBeforeRetry: true });

postgres.describe('the platform on a three-node NATS cluster', () => {
  let cluster: NatsClusterHandle;
  let database: TestDatabase;
  let platform: ClusterPlatform;
  let fleet: { agents: FleetAgent[]; stop(): Promise<void> };
  let stored: StoredBatches;
  let observer: NatsConnection;
  let probe: RequestProbe;
  let live: LiveEvents;
  const figures: FaultFigures[] = [];
  /** Per fault window: why each missing batch is missing (JetStream's view) and the agents' log tails. */
  const gapReports = new Map<FaultFigures, string>();
  /** A fault whose test failed before repairing it is repaired here, so the next fault starts whole. */
  let pendingRepair: (() => Promise<void>) | undefined;

  const agents = () => fleet.agents;
  const victims = (instance: string) => platform.instances.filter((i) => i.instance === instance);

  /** Every stream at three replicas, a leader and two current followers. */
  const streamsAtR3 = async () => {
    const jsm = await observer.jetstreamManager();
    for (const name of STREAMS) {
      const info = await jsm.streams.info(name);
      const replicas = info.cluster?.replicas ?? [];
      if (info.config.num_replicas !== 3 || !info.cluster?.leader || replicas.length !== 2) return false;
      if (!replicas.every((r) => r.current && !r.offline)) return false;
    }
    return true;
  };
  const waitForR3 = (what: string) =>
    waitFor(`${what}: every stream back at R3`, streamsAtR3, 90_000, 250).catch(failWithLogs);

  /** Instances whose service has no connection on their home node. */
  const movedFromHome = async () => {
    const connections = await cluster.connections();
    return platform.instances.filter((i) => !(connections.get(`n${i.home}`) ?? []).includes(i.busName));
  };
  /** Agents connected elsewhere than their home node now. */
  const agentsAway = async () => {
    const subscriptions = await cluster.subscriptions();
    return agents().filter((a) => !nodesOf(subscriptions, a).includes(`n${a.home}`));
  };
  /**
   * A client that loses its node reconnects to another and stays there; the faults below are defined by
   * where each instance and agent runs, so one that moved (during start-up, or in a fault a test failed
   * in) is restarted on its node, with what it logged about its link printed (CI keeps why it moved).
   */
  const restoreLayout = async () => {
    const moved = await movedFromHome();
    for (const i of moved) {
      const link = i.process.linesWith('NATS connection').slice(-10).join('\n');
      process.stdout.write(`${i.service}-${i.instance} left n${i.home}; restarting it:\n${link}\n`);
    }
    const away = await agentsAway();
    for (const a of away) {
      const link = a.process.linesWith('NATS').slice(-10).join('\n');
      process.stdout.write(`${a.name} left n${a.home}; restarting it:\n${link}\n`);
    }
    await Promise.all([...moved, ...away].map((p) => p.process.stop()));
    if (moved.length) await platform.start(moved);
    for (const a of away) a.process.start();
    if (away.length)
      await waitFor(
        'restarted agents back on their nodes',
        async () => !(await agentsAway()).length,
        60_000,
        500,
      ).catch(failWithLogs);
  };

  /** Every agent in `which` has had a batch collected at or after `since` stored. */
  const metricsFlowingSince = async (since: number, which: FleetAgent[] = agents()) => {
    const batches = await stored.batches(which.map((a) => a.id));
    return which.every((a) => a.published.some((b) => b.at >= since && batches.get(a.id)!.has(b.seq)));
  };
  const waitForMetrics = (what: string, since: number, which?: FleetAgent[]) =>
    waitFor(what, () => metricsFlowingSince(since, which), 90_000, 250).catch(failWithLogs);

  /** Survivor gateways answered every request for two seconds. */
  const waitForAnswers = (gateways: string[]) =>
    waitFor(
      `gateways ${gateways.join(', ')} answering again`,
      () => gateways.every((g) => probe.allAnswered(g, Date.now() - 2000, Date.now())),
      60_000,
      250,
    ).catch(failWithLogs);

  /**
   * Every agent live in the agents list — `online`, or `degraded` (heard, reporting trouble: an agent cut off by a
   * partition reports its buffer filling until it has caught up) — as both gateways answer it (provisioning's
   * registry, fed by EVENTS). A timeout names each agent's status by gateway.
   */
  const waitForFleetOnline = (what: string) => {
    const statuses = new Map<string, string>();
    return waitFor(
      `${what}: every agent listed online or degraded by both gateways`,
      async () => {
        for (const gateway of ['a', 'b']) {
          const response = await fetch(
            `${platform.gatewayUrl(gateway)}/api/v1/agents?environment=faults&limit=50`,
            {
              headers: { authorization: `Bearer ${platform.apiKey}` },
              signal: AbortSignal.timeout(10_000),
            },
          );
          if (!response.ok) return false;
          const page = (await response.json()) as { items: { id: string; status: string }[] };
          for (const a of agents())
            statuses.set(
              `${a.name}@${gateway}`,
              page.items.find((i) => i.id === a.id)?.status ?? 'not listed',
            );
        }
        return [...statuses.values()].every((status) => status === 'online' || status === 'degraded');
      },
      30_000,
      500,
    ).catch((error: unknown) =>
      failWithLogs(
        new Error(
          `${(error as Error).message}; last seen: ${[...statuses].map(([k, v]) => `${k} ${v}`).join(', ')}`,
        ),
      ),
    );
  };

  /**
   * Until each of `which` had exactly one `kind` event since `from`, as the observer heard them; a timeout
   * names every agent's count and the node it is connected to now.
   */
  const waitForLiveness = (kind: string, which: FleetAgent[], from: number, timeoutMs: number) =>
    waitFor(
      `${kind} for each of ${which.map((a) => a.name).join(', ')}`,
      async () => {
        const counts = live.count(kind, from);
        return which.every((a) => counts.get(a.id) === 1);
      },
      timeoutMs,
      500,
    ).catch(async (error: unknown) => {
      const counts = live.count(kind, from);
      const subscriptions = await cluster.subscriptions().catch(() => new Map<string, string[]>());
      const seen = agents()
        .map(
          (a) =>
            `${a.name} (home n${a.home}, on ${nodesOf(subscriptions, a).join(' and ') || 'no node'}): ${counts.get(a.id) ?? 0}`,
        )
        .join(', ');
      return failWithLogs(new Error(`${(error as Error).message}; ${kind} heard since: ${seen}`));
    });

  /** What JetStream says about the streams and the metrics consumer, for a failure message. */
  const jetStreamState = async () => {
    try {
      const jsm = await observer.jetstreamManager();
      const lines = [];
      for (const name of STREAMS) {
        const info = await jsm.streams.info(name);
        lines.push(`${name}: ${info.state.messages} msgs, cluster ${JSON.stringify(info.cluster)}`);
      }
      const consumer = await jsm.consumers.info(Streams.metrics, 'ingestion');
      const { num_pending, num_ack_pending, num_waiting, num_redelivered, cluster: where } = consumer;
      lines.push(
        `ingestion consumer: ${JSON.stringify({ num_pending, num_ack_pending, num_waiting, num_redelivered, where })}`,
      );
      for (const node of cluster.nodes)
        lines.push(`${node.name} routes: ${await cluster.routes(node.index)}`);
      return lines.join('\n');
    } catch (error) {
      return `JetStream state unavailable: ${String(error)}`;
    }
  };

  const failWithLogs = async (error: unknown): Promise<never> => {
    const tails = [...platform.instances.map((i) => i.process), ...agents().map((a) => a.process)]
      .map((p) => `--- ${p.name} ---\n${p.output().slice(-1500)}`)
      .join('\n');
    throw new Error(
      `${(error as Error).message}\n--- JetStream ---\n${await jetStreamState()}\n${tails}\n--- nodes ---\n${cluster.nodes.map((n) => n.log().slice(-1500)).join('\n')}`,
    );
  };

  const reportedRepairs = new Set<string>();
  /** Ingestion's audit warnings not printed yet. */
  const auditRepairs = () =>
    platform.instances
      .filter((i) => i.service === 'ingestion')
      .flatMap((i) =>
        i.process
          .linesWith('counted delivered were not stored')
          .map((line) => `${i.service}-${i.instance}: ${line}`),
      )
      .filter((line) => !reportedRepairs.has(line) && reportedRepairs.add(line));

  /** Batches the agents numbered between `from` and `to` (collection times) that `batches` (stored) lacks. */
  const missingBetween = (
    batches: Map<string, Map<number, number>>,
    from: number,
    to: number,
  ): MissingBatch[] =>
    agents().flatMap((a) =>
      a.published
        .filter((b) => b.at >= from && b.at <= to && !batches.get(a.id)!.has(b.seq))
        .map((b) => ({
          agentName: a.name,
          agentId: a.id,
          environment: 'faults',
          seq: b.seq,
          collectedAt: b.at,
        })),
    );

  /**
   * Batches still missing after the settle that sit in AGENT_METRICS beyond the metrics audit's position have
   * not been judged by it yet (those nats-server 2.9.10 skipped, RELIABILITY.md §8): it gets AUDIT_CATCH_UP_MS more
   * to pass them, and the wait is printed, so a slow audit shows in CI logs. A batch it passes without
   * storing still fails the test.
   */
  const awaitAudit = async (fault: string, missing: MissingBatch[]) => {
    const sequences = [...(await streamSequences(observer, missing)).values()];
    if (!sequences.length) return;
    const highest = Math.max(...sequences);
    const position = await stored.auditPosition();
    if (position >= highest) return;
    const started = Date.now();
    const passed = await waitFor(
      'the metrics audit past the missing batches',
      async () => (await stored.auditPosition()) >= highest,
      AUDIT_CATCH_UP_MS,
      500,
    ).then(
      () => `passed it ${((Date.now() - started) / 1000).toFixed(1)} s later`,
      () => `had not passed it ${AUDIT_CATCH_UP_MS / 1000} s later`,
    );
    process.stdout.write(
      `${fault}: ${missing.length} batch(es) missing after the ${SETTLE_TIMEOUT_MS / 1000} s settle, in AGENT_METRICS ` +
        `up to sequence ${highest}; the metrics audit was at ${position} and ${passed}\n`,
    );
  };

  /**
   * Closes the window: everything the agents numbered up to now must be stored (a missing batch is a
   * gap once SETTLE_TIMEOUT_MS passed and the audit has judged it), then the window's figures are taken.
   */
  const closeWindow = async (
    window: Omit<FaultWindow, 'end'>,
    survivors: string[],
    r3Ms: number,
    note: string,
  ): Promise<FaultFigures> => {
    const end = Date.now();
    const ids = agents().map((a) => a.id);
    const allStored = async () => !missingBetween(await stored.batches(ids), -Infinity, end).length;
    await waitFor('every batch published in the window stored', allStored, SETTLE_TIMEOUT_MS, 500).catch(
      () => undefined,
    );
    const unsettled = missingBetween(await stored.batches(ids), window.start, end);
    if (unsettled.length) await awaitAudit(window.fault, unsettled);
    // Batches the audit found skipped by the consumer (the nats-server leader-change fault) and stored: printed, so CI
    // logs show how often it happens; they count as stored.
    for (const line of auditRepairs()) process.stdout.write(`${window.fault}: ${line}\n`);
    const batches = await stored.batches(ids);
    const duplicates = await stored.duplicateSamples(ids);
    const full: FaultWindow = { ...window, end };
    const events = await livenessEvents(observer, full.start, Date.now());
    const result: FaultFigures = {
      window: full,
      agents: agents().map((a) =>
        agentFigures(a, `n${a.home}`, full, batches.get(a.id)!, duplicates.get(a.id) ?? 0, events),
      ),
      requests: probe.figures(survivors, full.faultAt, end, full.faultAt),
      r3Ms,
      note,
    };
    figures.push(result);
    const missing = missingBetween(batches, full.start, end);
    if (missing.length) {
      const tails = [...new Set(missing.map((m) => m.agentName))]
        .map((name) => agents().find((a) => a.name === name)!)
        .map((a) => `--- ${a.name} ---\n${a.process.output().slice(-4000)}`)
        .join('\n');
      // What each ingestion instance warned about in the window: a write it gave up, a batch held, a restart.
      const ingestion = platform.instances
        .filter((i) => i.service === 'ingestion')
        .map((i) => `--- ingestion-${i.instance}, warnings ---\n${warnings(i.process.output(), full.start)}`)
        .join('\n');
      const audit = `--- metrics audit: ${JSON.stringify(await stored.auditState())} ---`;
      gapReports.set(
        result,
        `--- gaps ---\n${await explainGaps(observer, missing)}\n${audit}\n${ingestion}\n${tails}`,
      );
    }
    return result;
  };

  const expectNothingLost = (result: FaultFigures) => {
    const report = gapReports.get(result);
    if (report) process.stdout.write(`\n${result.window.fault}: batches missing\n${report}\n`);
    for (const a of result.agents) {
      expect({ agent: a.agent, gaps: a.gaps, duplicates: a.duplicates }).toEqual({
        agent: a.agent,
        gaps: 0,
        duplicates: 0,
      });
      expect(a.published).toBeGreaterThan(0);
    }
  };

  beforeAll(async () => {
    ensureBuilt();
    cluster = await startNatsCluster();
    database = await createTestDatabase('postgres', 'cluster');
    platform = await clusterPlatform(cluster, database);
    await platform.start(platform.instances);
    // On n1, the node no fault touches: its reads of JetStream and the database are the measurement.
    observer = await cluster
      .busOn(1)
      .connectWith('fault-observer', ['$JS.API.>'], ['_INBOX_fault-observer.>', 'events.>']);
    live = new LiveEvents(observer);
    stored = new StoredBatches(database.env.DATABASE_URL!);
    const provisioned = await fetch(`${platform.gatewayUrl('a')}/api/v1/agent/provision`, {
      method: 'POST',
      headers: { authorization: `Bearer ${platform.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agent_type: 'server', environment_name: 'faults' }),
    });
    const { enrollment_token: token } = (await provisioned.json()) as { enrollment_token: string };
    fleet = await startFleet({
      cluster,
      perNode: 2,
      token,
      platformUrl: platform.gatewayHttpsUrl('a'),
      caPin: cluster.bus.authority.caPin(),
    });
    probe = new RequestProbe({ a: platform.gatewayUrl('a'), b: platform.gatewayUrl('b') }, platform.apiKey);
    probe.start();
    await waitForMetrics('every agent storing metrics', 0);
    await waitForR3('start-up');
    await waitForFleetOnline('start-up');
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await probe?.stop();
    if (figures.length)
      process.stdout.write(
        `\nCluster fault suite (3 nodes, 2 instances per service, ${agents().length} agents):\n\n${renderFigures(figures)}\n\n`,
      );
    // kill -9 everything first: a process left behind keeps Jest (and CI) waiting.
    await Promise.all([
      ...(fleet?.agents ?? []).map((a) => a.process.kill()),
      ...(platform?.instances ?? []).map((i) => i.process.kill()),
    ]);
    await fleet?.stop();
    await observer?.close().catch(() => undefined);
    await stored?.close();
    await cluster?.dispose();
    await database?.cleanup();
  }, 60_000);

  afterEach(async () => {
    const repair = pendingRepair;
    pendingRepair = undefined;
    await repair?.();
  }, 120_000);

  /**
   * Every fault starts from the layout and a whole fleet, a retry after a failure included: an agent left
   * offline, or moved off its node, by a failed attempt would otherwise fail the next one for that alone.
   */
  beforeEach(async () => {
    if (!fleet) return;
    await restoreLayout();
    await waitForR3('before the fault');
    await waitForFleetOnline('before the fault');
  }, 240_000);

  it('runs every stream at three replicas, instance a of each service on n0, b on n1, two agents on each node', async () => {
    const connections = await cluster.connections();
    const services = ['alerting', 'gateway', 'ingestion', 'provisioning', 'tokens'];
    // A service holds two connections (its RPC server and its own), so names are counted once.
    const on = (node: string) =>
      [...new Set(connections.get(node))].filter((name) => name !== 'fault-observer');
    expect(on('n0').filter((name) => services.includes(name))).toEqual(services);
    expect(on('n1').filter((name) => services.includes(name))).toEqual(services);
    expect(on('n2').filter((name) => services.includes(name))).toEqual([]);
    for (const node of ['n0', 'n1', 'n2'])
      expect(connections.get(node)!.filter((name) => name.startsWith('rca-agent'))).toHaveLength(2);
    // A follower is briefly not current under load: wait for all three, as every fault test does first.
    await waitForR3('layout');
  });

  it(
    'a partitioned node: its agents are offline exactly once and back, nothing lost or doubled',
    async () => {
      const start = Date.now();
      await waitForMetrics('metrics before the partition', start);
      const inside = agents().filter((a) => a.home === 2);
      const consumerLed = await leadOn('n2', 'consumer');
      const outside = agents().filter((a) => !inside.includes(a));
      const faultAt = Date.now();
      await cluster.partition(2);
      pendingRepair = () => cluster.heal(2);
      // No ingestion instance hears n2: its agents' silence is a real outage, judged once per agent.
      await waitForLiveness(EventKinds.agentOffline, inside, faultAt, 60_000);
      await waitForMetrics('metrics from the agents outside the partition', faultAt, outside);
      const repairedAt = Date.now();
      pendingRepair = undefined;
      await cluster.heal(2);
      await waitForR3('after healing');
      const r3Ms = Date.now() - repairedAt;
      await waitForMetrics('metrics from every agent after healing', repairedAt);
      await waitForLiveness(EventKinds.agentOnline, inside, repairedAt, 30_000);

      const result = await closeWindow(
        { fault: 'partition n2', start, faultAt, repairedAt },
        ['a', 'b'],
        r3Ms,
        `${inside.length} agents cut off, no service on n2${consumerLed ? '; n2 led the ingestion consumer' : ''}`,
      );
      expectNothingLost(result);
      for (const a of result.agents) {
        const cut = inside.some((i) => i.name === a.agent);
        expect({ agent: a.agent, offline: a.offline, online: a.online }).toEqual({
          agent: a.agent,
          offline: cut ? 1 : 0,
          online: cut ? 1 : 0,
        });
      }
    },
    FAULT_TIMEOUT_MS,
  );

  it(
    'kill -9 of one instance of each service: the others carry on, nothing lost or doubled, nobody offline',
    async () => {
      const start = Date.now();
      await waitForMetrics('metrics before the kill', start);
      const killed: ServiceInstance[] = victims('a');
      const faultAt = Date.now();
      await Promise.all(killed.map((i) => i.process.kill()));
      pendingRepair = () => platform.start(killed);
      await waitForMetrics('metrics stored by the surviving ingestion', faultAt);
      await waitForAnswers(['b']);
      const repairedAt = Date.now();
      pendingRepair = undefined;
      await platform.start(killed);
      await waitForR3('after the restarts');
      const r3Ms = Date.now() - repairedAt;
      await waitForMetrics('metrics after the restarts', repairedAt);
      await waitForAnswers(['a', 'b']);

      const result = await closeWindow(
        {
          fault: 'kill -9 tokens, provisioning, ingestion, alerting, gateway (a)',
          start,
          faultAt,
          repairedAt,
        },
        ['b'],
        r3Ms,
        'survivors: instance b of each',
      );
      expectNothingLost(result);
      for (const a of result.agents)
        expect({ agent: a.agent, offline: a.offline }).toEqual({ agent: a.agent, offline: 0 });
    },
    FAULT_TIMEOUT_MS,
  );

  it(
    'kill -9 of the node leading AGENT_METRICS mid-stream: everyone fails over, nothing lost or doubled, nobody offline',
    async () => {
      const start = Date.now();
      await waitForMetrics('metrics before the kill', start);
      const leader = await leadOn('n0', 'stream');
      const consumerLed = await leadOn('n0', 'consumer');
      const faultAt = Date.now();
      await cluster.nodes[0].kill();
      pendingRepair = () => cluster.nodes[0].restart();
      await waitForMetrics('metrics from every agent after the node died', faultAt);
      await waitForAnswers(['a', 'b']);
      const repairedAt = Date.now();
      pendingRepair = undefined;
      await cluster.nodes[0].restart();
      await waitForR3('after the node restarted');
      const r3Ms = Date.now() - repairedAt;
      await waitForMetrics('metrics after the node restarted', repairedAt);
      await waitForFleetOnline('after the node restarted');

      const result = await closeWindow(
        { fault: 'kill -9 node n0', start, faultAt, repairedAt },
        ['a', 'b'],
        r3Ms,
        `${leader ? 'n0 led AGENT_METRICS' : ''}${consumerLed ? ' and its ingestion consumer' : ''}; on n0: instance a of each service, 2 agents`,
      );
      expectNothingLost(result);
      for (const a of result.agents)
        expect({ agent: a.agent, offline: a.offline }).toEqual({ agent: a.agent, offline: 0 });
    },
    FAULT_TIMEOUT_MS,
  );

  /**
   * Asks the leader of AGENT_METRICS (or of its `ingestion` consumer) to step down until `node` leads it,
   * a few tries at most: a fault on that node then hits the metrics path where it hurts most.
   */
  async function leadOn(node: string, what: 'stream' | 'consumer'): Promise<boolean> {
    const jsm = await observer.jetstreamManager();
    const leader = async () =>
      what === 'stream'
        ? (await jsm.streams.info(Streams.metrics)).cluster?.leader
        : (await jsm.consumers.info(Streams.metrics, 'ingestion')).cluster?.leader;
    const stepDown =
      what === 'stream'
        ? `$JS.API.STREAM.LEADER.STEPDOWN.${Streams.metrics}`
        : `$JS.API.CONSUMER.LEADER.STEPDOWN.${Streams.metrics}.ingestion`;
    for (let attempt = 0; attempt < 10; attempt++) {
      const before = await leader();
      if (before === node) return true;
      await observer.request(stepDown, undefined, { timeout: 5000 });
      await waitFor(
        `a new ${what} leader`,
        async () => {
          const now = await leader();
          return now && now !== before;
        },
        15_000,
        100,
      );
    }
    return false;
  }
});
