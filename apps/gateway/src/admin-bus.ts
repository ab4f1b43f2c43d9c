import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import {
  BusAuthority,
  customPermissions,
  PLATFORM_IDENTITIES,
  renderBusAuthConfig,
  renderNatsServerConfig,
} from '@app/nats-auth';
import type { AdminOutput } from './admin';

/** Where the bus keys live: NATS_AUTH_DIR, else what `npm start` generated under DATA_DIR. */
export function busKeyDirectory(env: { NATS_AUTH_DIR?: string; DATA_DIR: string }): string {
  return resolve(env.NATS_AUTH_DIR ?? join(env.DATA_DIR, 'nats-auth'));
}

/** A subject an internal user may be granted: tokens of letters, digits, `_-$`, with `*` and a final `>`. */
const SUBJECT = /^(?:[A-Za-z0-9_$-]+|\*)(?:\.(?:[A-Za-z0-9_$-]+|\*))*(?:\.>)?$|^>$/;

const collect = (value: string, previous: string[]) => [...previous, value];

/** Runs a command, printing a failure as one line and exit code 1 instead of a stack trace. */
const guarded =
  <A extends unknown[]>(io: AdminOutput, work: (...args: A) => Promise<void>) =>
  async (...args: A) => {
    try {
      await work(...args);
    } catch (error) {
      io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    }
  };

/**
 * `nats-auth init` (the keys for a NATS server you run) and `nats-user create` (creds for an internal
 * consumer), both on the bus key directory; neither needs a running platform.
 */
export function registerBusCommands(program: Command, io: AdminOutput, keyDirectory: () => string): void {
  const auth = program.command('nats-auth').description('the NATS bus keys (operator mode)');
  auth
    .command('init')
    .description('create (or refresh) the bus keys and print a nats-server configuration that trusts them')
    .option('--dir <dir>', 'the key directory (default: NATS_AUTH_DIR, else DATA_DIR/nats-auth)')
    .option(
      '--host <name>',
      'a host name or address agents use to reach NATS (repeatable; goes into the TLS certificate)',
      collect,
      [],
    )
    .option('--config <file>', 'also write the nats-server configuration to this file')
    .option(
      '--include <file>',
      'write only the security part (operator, accounts, TLS) to this file, to include in a configuration of your own',
    )
    .option(
      '--tls-dir <dir>',
      "where the NATS server finds the directory's tls/ files, if not at <dir>/tls (another container)",
    )
    .option('--port <port>', 'client port in the printed configuration', '4222')
    .option('--store-dir <dir>', 'JetStream store directory in the printed configuration', '/data/jetstream')
    .option('--resolver-dir <dir>', 'account JWT directory in the printed configuration', '/data/accounts')
    .action(
      guarded(
        io,
        async (options: {
          dir?: string;
          host: string[];
          config?: string;
          include?: string;
          tlsDir?: string;
          port: string;
          storeDir: string;
          resolverDir: string;
        }) => {
          const dir = resolve(options.dir ?? keyDirectory());
          const existed = BusAuthority.exists(dir);
          const authority = await BusAuthority.ensure(dir, { tlsHosts: options.host });
          const config = renderNatsServerConfig(authority, {
            host: '0.0.0.0',
            port: Number(options.port),
            storeDir: options.storeDir,
            resolverDir: options.resolverDir,
            tls: true,
            tlsDir: options.tlsDir,
          });
          if (options.config) writeFileSync(options.config, config, { mode: 0o600 });
          if (options.include) {
            const part = renderBusAuthConfig(authority, {
              resolverDir: options.resolverDir,
              tls: true,
              tlsDir: options.tlsDir,
            });
            writeFileSync(options.include, part, { mode: 0o644 });
            io.out(
              `Security part written to ${options.include} (include it in your nats-server configuration).`,
            );
          }
          io.out(`${existed ? 'Refreshed' : 'Created'} the bus keys in ${dir}.`);
          io.out(`Platform CA pin: ${authority.caPin()}`);
          io.out(
            'Give each service its creds (NATS_CREDS), the CA (NATS_CA_FILE) and the token service NATS_AUTH_DIR:',
          );
          io.out(`  ${join(dir, 'creds')}/<service>.creds, ${authority.paths.caCertificate}`);
          io.out(
            options.config
              ? `nats-server configuration written to ${options.config}`
              : '--- nats-server configuration ---',
          );
          if (!options.config) io.out(config.trimEnd());
        },
      ),
    );

  const user = program
    .command('nats-user')
    .description('NATS users for internal consumers (PLATFORM account)');
  user
    .command('create <name>')
    .description('print a .creds file for an internal service allowed exactly the given subjects')
    .option(
      '--subscribe <subject>',
      'a subject it may subscribe to (repeatable), e.g. "events.>"',
      collect,
      [],
    )
    .option('--publish <subject>', 'a subject it may publish to (repeatable)', collect, [])
    .option('--out <file>', 'write the creds to this file (mode 0600) instead of printing them')
    .action(
      guarded(io, async (name: string, options: { subscribe: string[]; publish: string[]; out?: string }) => {
        if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw new Error('the name must be 1-64 of A-Z a-z 0-9 _ -');
        // The name is also the user's inbox prefix: a platform service's name would let it read that service's replies.
        if (
          (PLATFORM_IDENTITIES as readonly string[]).includes(name) ||
          name === 'system' ||
          name === 'account-updates'
        )
          throw new Error(`"${name}" is the name of a platform identity; choose another`);
        const subjects = [...options.subscribe, ...options.publish];
        if (!subjects.length) throw new Error('grant at least one --subscribe or --publish subject');
        const bad = subjects.find((subject) => !SUBJECT.test(subject));
        if (bad)
          throw new Error(
            `"${bad}" is not a NATS subject (tokens separated by dots, * and a final > allowed)`,
          );
        const dir = keyDirectory();
        if (!existsSync(dir))
          throw new Error(`no bus keys in ${dir}: start the platform once or run "nats-auth init"`);
        const creds = Buffer.from(
          await BusAuthority.open(dir).platformCreds(
            name,
            customPermissions(options.publish, options.subscribe),
          ),
        ).toString();
        if (options.out) {
          writeFileSync(options.out, creds, { mode: 0o600 });
          io.out(
            `Wrote ${options.out}: user "${name}" may subscribe [${options.subscribe.join(', ')}] and publish [${options.publish.join(', ')}].`,
          );
          io.out(
            `Its replies arrive on _INBOX_${name}.>: connect with inboxPrefix "_INBOX_${name}" and the platform CA.`,
          );
        } else {
          io.out(creds.trimEnd());
        }
      }),
    );
}
