import { DynamicModule, Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { Database, DatabaseOptions, openDatabase } from './database';
import { migrateDatabase, Migrations } from './migrate';

/** Injection token for the service's `Database<DB>` (Kysely + engine). */
export const DATABASE = Symbol('DATABASE');

@Injectable()
class DatabaseCloser implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly database: Database<unknown>) {}
  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}

/** Opens the service's database and applies its migrations before anything can use it. */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseOptions, migrations: Migrations): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        {
          provide: DATABASE,
          useFactory: async () => {
            const database = await openDatabase(options);
            await migrateDatabase(database, migrations);
            return database;
          },
        },
        DatabaseCloser,
      ],
      exports: [DATABASE],
    };
  }
}
