import { readFileSync } from 'node:fs';
import { Injectable } from '@nestjs/common';
import { GatewayConfig } from '../config';

/**
 * The platform CA certificate (public), served to agents that check it against the pin in their
 * install command. Read at each request: a CA created after start-up is served without a restart.
 */
@Injectable()
export class PlatformCa {
  constructor(private readonly config: GatewayConfig) {}

  certificate(): string | undefined {
    if (!this.config.PLATFORM_CA_FILE) return undefined;
    try {
      return readFileSync(this.config.PLATFORM_CA_FILE, 'utf8');
    } catch {
      return undefined;
    }
  }
}
