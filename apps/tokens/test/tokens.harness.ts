import { INestMicroservice } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { loadConfig } from '@app/config';
import { connect, NatsConnection } from 'nats';
import { DomainError, ErrorCodes, Subjects } from '@app/contracts';
import {
  busSettings,
  natsMicroserviceOptions,
  RpcClient,
  RpcErrorFilter,
  RpcValidationPipe,
} from '@app/messaging';
import { Clock, ManualClock } from '@app/clock';
import type { SecuredBus } from '@app/testing';
import { BOOTSTRAP_OUTPUT } from '../src/bootstrap/bootstrap.service';
import { TokensConfig } from '../src/config';
import { TokensModule } from '../src/tokens.module';

export interface TokensHarnessOptions {
  natsUrl: string;
  /** DATA_DIR and, for PostgreSQL, DATABASE_URL (a TestDatabase's `env`). */
  env: Record<string, string | undefined>;
  clock?: Clock;
  /** A secured nats-server's keys: the service connects as `tokens` and signs with the bus keys. */
  bus?: SecuredBus;
}

export interface TokensHarness {
  app: INestMicroservice;
  clock: Clock;
  /** Lines the bootstrap printed (the generated API key). */
  output: string[];
  close(): Promise<void>;
}

/**
 * Runs the real tokens service in this process, exactly as main.ts wires it, with a clock
 * and a stdout the test controls. For specs only.
 */
export async function startTokensHarness(options: TokensHarnessOptions): Promise<TokensHarness> {
  const bus = options.bus;
  const config = loadConfig(TokensConfig, {
    LOG_LEVEL: 'warn',
    ...options.env,
    NATS_URL: options.natsUrl,
    ...(bus
      ? { NATS_CREDS: bus.credsFile('tokens'), NATS_CA_FILE: bus.caFile, NATS_AUTH_DIR: bus.authority.dir }
      : {}),
  });
  const clock = options.clock ?? new ManualClock(Date.now());
  const output: string[] = [];
  const moduleRef = await Test.createTestingModule({ imports: [TokensModule.forRoot(config)] })
    .overrideProvider(Clock)
    .useValue(clock)
    .overrideProvider(BOOTSTRAP_OUTPUT)
    .useValue((line: string) => output.push(line))
    .compile();
  const app = moduleRef.createNestMicroservice(
    natsMicroserviceOptions(busSettings(config, 'tokens'), 'tokens'),
  );
  app.useGlobalPipes(new RpcValidationPipe());
  app.useGlobalFilters(new RpcErrorFilter());
  await app.listen();
  await untilAnswering(() => (bus ? bus.connect('admin') : connect({ servers: config.NATS_URL })));
  return { app, clock, output, close: () => app.close() };
}

/**
 * listen() resolves before the server has processed the service's subscriptions, so a
 * request sent at once from another connection can find no responder. Ask until it answers.
 */
async function untilAnswering(open: () => Promise<NatsConnection>): Promise<void> {
  const nc = await open();
  const rpc = new RpcClient(nc, 1000);
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await rpc.request(Subjects.tokens.listOrganizations, {});
        return;
      } catch (error) {
        const notYet = error instanceof DomainError && error.code === ErrorCodes.UNAVAILABLE;
        if (!notYet || attempt >= 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  } finally {
    await nc.close();
  }
}
