import { INestMicroservice } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { loadConfig } from '@app/config';
import { connect } from 'nats';
import { DomainError, ErrorCodes, Subjects } from '@app/contracts';
import { natsMicroserviceOptions, RpcClient, RpcErrorFilter, RpcValidationPipe } from '@app/messaging';
import { BOOTSTRAP_OUTPUT } from './bootstrap/bootstrap.service';
import { Clock, ManualClock } from '@app/clock';
import { TokensConfig } from './config';
import { TokensModule } from './tokens.module';

export interface TokensHarnessOptions {
  natsUrl: string;
  /** DATA_DIR and, for PostgreSQL, DATABASE_URL (a TestDatabase's `env`). */
  env: Record<string, string | undefined>;
  clock?: Clock;
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
  const config = loadConfig(TokensConfig, { LOG_LEVEL: 'warn', ...options.env, NATS_URL: options.natsUrl });
  const clock = options.clock ?? new ManualClock(Date.now());
  const output: string[] = [];
  const moduleRef = await Test.createTestingModule({ imports: [TokensModule.forRoot(config)] })
    .overrideProvider(Clock)
    .useValue(clock)
    .overrideProvider(BOOTSTRAP_OUTPUT)
    .useValue((line: string) => output.push(line))
    .compile();
  const app = moduleRef.createNestMicroservice(
    natsMicroserviceOptions({ url: config.NATS_URL, name: 'tokens-test' }, 'tokens'),
  );
  app.useGlobalPipes(new RpcValidationPipe());
  app.useGlobalFilters(new RpcErrorFilter());
  await app.listen();
  await untilAnswering(config.NATS_URL);
  return { app, clock, output, close: () => app.close() };
}

/**
 * listen() resolves before the server has processed the service's subscriptions, so a
 * request sent at once from another connection can find no responder. Ask until it answers.
 */
async function untilAnswering(natsUrl: string): Promise<void> {
  const nc = await connect({ servers: natsUrl });
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
