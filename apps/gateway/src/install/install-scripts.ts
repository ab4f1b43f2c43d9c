import { Injectable, OnModuleInit } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GatewayConfig } from '../config';

/** The install scripts the Server commands fetch, read once at start-up from DEPLOY_DIR/install. */
@Injectable()
export class InstallScripts implements OnModuleInit {
  sh = '';
  ps1 = '';

  constructor(private readonly config: GatewayConfig) {}

  onModuleInit(): void {
    const dir = join(this.config.DEPLOY_DIR, 'install');
    this.sh = readFileSync(join(dir, 'install.sh'), 'utf8');
    this.ps1 = readFileSync(join(dir, 'install.ps1'), 'utf8');
  }
}
