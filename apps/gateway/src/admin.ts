import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { IsOptional, IsString } from 'class-validator';
import { Command } from 'commander';
import { connect, NatsConnection } from 'nats';
import { CommonConfig, loadConfigOrExit } from '@app/config';
import {
  DomainError,
  formatToken,
  IssuedToken,
  NotFoundError,
  ApiKeyScope,
  ApiKeyScopes,
} from '@app/contracts';
import { busSettings, natsConnectionOptions, RpcClient } from '@app/messaging';
import { TokensClient } from './tokens/tokens.client';
import { busKeyDirectory, registerBusCommands } from './admin-bus';

/** Where the CLI writes: the terminal in production, arrays in tests. */
export interface AdminOutput {
  out(line: string): void;
  err(line: string): void;
}

export interface TokensConnection {
  tokens: TokensClient;
  close(): Promise<void>;
}

/**
 * The operators' CLI (`npm run admin -- …`): organisations and their API keys, through the
 * token service over NATS. Secrets are printed exactly once, when created.
 */
export function buildAdminProgram(
  connectTokens: () => Promise<TokensConnection>,
  io: AdminOutput,
  keyDirectory: () => string = () => busKeyDirectory({ DATA_DIR: './data' }),
): Command {
  const program = new Command('admin')
    .description('Agent Connector administration: organisations, API keys and the NATS bus keys')
    .option('--json', 'print JSON instead of text')
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showHelpAfterError();
  const json = () => program.opts<{ json?: boolean }>().json === true;

  /** Runs one command with a connection, mapping coded errors to a message and exit code 1. */
  const withTokens =
    <A extends unknown[]>(work: (tokens: TokensClient, ...args: A) => Promise<void>) =>
    async (...args: A) => {
      let connection: TokensConnection | undefined;
      try {
        connection = await connectTokens();
        await work(connection.tokens, ...args);
      } catch (error) {
        const message =
          error instanceof DomainError
            ? `${error.code}: ${error.message}`
            : error instanceof Error
              ? error.message
              : String(error);
        io.err(`error: ${message}`);
        process.exitCode = 1;
      } finally {
        await connection?.close();
      }
    };

  const printKey = (key: IssuedToken, organization: string) => {
    io.out(`API key ${key.id} for organization ${organization} (shown once, store it now):`);
    io.out(key.secret);
  };

  const org = program.command('org').description('organisations');
  org
    .command('create <name>')
    .description('create an organisation and print its first API key (once)')
    .action(
      withTokens(async (tokens, name: string) => {
        const created = await tokens.createOrganization({ name, actor: 'cli' });
        if (json()) return io.out(JSON.stringify(created, null, 2));
        io.out(`Created organization ${created.organization.name} (${created.organization.id}).`);
        printKey(created.apiKey, created.organization.name);
      }),
    );
  org
    .command('list')
    .description('list organisations')
    .action(
      withTokens(async (tokens) => {
        const organizations = await tokens.listOrganizations();
        if (json()) return io.out(JSON.stringify(organizations, null, 2));
        for (const o of organizations) io.out(`${o.name}\t${o.id}\t${o.createdAt}`);
      }),
    );

  const key = program.command('key').description('API keys');
  key
    .command('create [organization]')
    .description('create another API key for an organisation (by name) and print it once')
    .option('--org <name>', 'the organisation (instead of the positional argument)')
    .option('--name <label>', 'a label shown in key lists')
    .option('--expires-at <iso-date>', 'when the key stops working')
    .option('--scope <scope>', `what the key may do: ${ApiKeyScopes.join(', ')} (default admin)`)
    .action(
      withTokens(
        async (
          tokens,
          positional: string | undefined,
          options: { org?: string; name?: string; expiresAt?: string; scope?: string },
        ) => {
          const name = options.org ?? positional;
          if (!name) throw new Error('name the organisation: key create --org <name>');
          const scope = options.scope ?? 'admin';
          if (!(ApiKeyScopes as readonly string[]).includes(scope))
            throw new Error(`--scope must be one of ${ApiKeyScopes.join(', ')} (got "${scope}")`);
          const organization = (await tokens.listOrganizations()).find((o) => o.name === name);
          if (!organization) throw new NotFoundError(`organization "${name}"`);
          const issued = await tokens.issue({
            kind: 'api_key',
            organizationId: organization.id,
            name: options.name,
            expiresAt: options.expiresAt,
            scope: scope as ApiKeyScope,
            actor: 'cli',
          });
          if (json()) return io.out(JSON.stringify(issued, null, 2));
          printKey(issued, organization.name);
        },
      ),
    );
  key
    .command('generate')
    .description('print a new well-formed API key without storing it (a value for BOOTSTRAP_API_KEY)')
    .action(() => io.out(formatToken('api_key', randomBytes)));

  registerBusCommands(program, io, keyDirectory);
  return program;
}

/**
 * A short-lived connection as the `admin` user: a CLI should fail fast when NATS is down, not reconnect
 * forever. Without NATS_CREDS it uses the creds and CA that `npm start` generated in the key directory.
 */
async function connectTokens(config: AdminConfig): Promise<TokensConnection> {
  const keys = busKeyDirectory(config);
  const local = (file: string) => (existsSync(join(keys, file)) ? join(keys, file) : undefined);
  const settings = busSettings(
    {
      ...config,
      NATS_CREDS: config.NATS_CREDS ?? local(join('creds', 'admin.creds')),
      NATS_CA_FILE: config.NATS_CA_FILE ?? local(join('tls', 'ca.pem')),
    },
    'admin',
  );
  let nc: NatsConnection;
  try {
    nc = await connect({
      ...natsConnectionOptions(settings),
      waitOnFirstConnect: false,
      maxReconnectAttempts: 0,
      timeout: 5000,
    });
  } catch (error) {
    throw new Error(
      `cannot reach NATS at ${config.NATS_URL} (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  return { tokens: new TokensClient(new RpcClient(nc, config.RPC_TIMEOUT_MS)), close: () => nc.close() };
}

/** The admin CLI's variables: the common ones and the bus key directory. */
class AdminConfig extends CommonConfig {
  @IsOptional()
  @IsString()
  NATS_AUTH_DIR?: string = undefined;
}

async function main(): Promise<void> {
  const config = loadConfigOrExit(AdminConfig);
  const program = buildAdminProgram(
    () => connectTokens(config),
    {
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
    },
    () => busKeyDirectory(config),
  );
  await program.parseAsync(process.argv);
}

if (require.main === module) void main();
