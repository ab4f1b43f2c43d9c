import { Injectable, OnModuleInit } from '@nestjs/common';
import { join } from 'node:path';
import { GatewayConfig } from '../config';
import { helmIndex, PackagedChart, packageChart } from './chart-packager';

/** The agent chart, packaged once at start-up from DEPLOY_DIR/helm/rca-agent and served from memory. */
@Injectable()
export class ChartRepository implements OnModuleInit {
  private chart?: PackagedChart;
  private index = '';

  constructor(private readonly config: GatewayConfig) {}

  async onModuleInit(): Promise<void> {
    this.chart = await packageChart(join(this.config.DEPLOY_DIR, 'helm', 'rca-agent'));
    this.index = helmIndex(this.chart, new Date());
  }

  indexYaml(): string {
    return this.index;
  }

  /** The archive for `rca-agent-<version>.tgz`, or undefined for any other name. */
  archive(fileName: string): Buffer | undefined {
    return this.chart && fileName === this.chart.fileName ? this.chart.archive : undefined;
  }
}
