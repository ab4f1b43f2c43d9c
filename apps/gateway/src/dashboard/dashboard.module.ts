import { DynamicModule, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { AgentNames } from '../agents/agent-names';
import { DashboardFiles, defaultDashboardDirectory } from './dashboard-files';
import { DashboardMiddleware } from './dashboard.middleware';
import { FleetSummaryController } from './fleet-summary.controller';
import { FleetSummaryService } from './fleet-summary.service';
import { RecentOfflineReader } from './recent-offline.reader';

export interface DashboardOptions {
  /** Built app (index.html + assets/); defaults to dist/dashboard. */
  directory?: string;
}

/** The dashboard at `/` (static, same origin as the API) and the overview route it reads. */
@Module({})
export class DashboardModule implements NestModule {
  static forRoot(options: DashboardOptions = {}): DynamicModule {
    return {
      module: DashboardModule,
      controllers: [FleetSummaryController],
      providers: [
        {
          provide: DashboardFiles,
          useValue: new DashboardFiles(options.directory ?? defaultDashboardDirectory()),
        },
        DashboardMiddleware,
        FleetSummaryService,
        RecentOfflineReader,
        AgentNames,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(DashboardMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
