import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { NatsConnection } from 'nats';
import { NATS_CONNECTION } from '@app/messaging';

/** `/health`: is NATS connected? (The gateway keeps no data; each service reports its own database.) */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Is the gateway connected to NATS? 200 when it is, 503 when not' })
  @HealthCheck()
  check() {
    return this.health.check([
      async () => {
        const indicator = this.indicators.check('nats');
        if (this.nc.isClosed()) return indicator.down({ reason: 'connection closed' });
        try {
          const rtt = await this.nc.rtt();
          return indicator.up({ rttMs: rtt, server: this.nc.getServer() });
        } catch (error) {
          return indicator.down({ reason: error instanceof Error ? error.message : String(error) });
        }
      },
    ]);
  }
}
