import { Module } from '@nestjs/common';
import { AlertsController } from './alerts.controller';

/** `/api/v1/alerts/…`: a thin HTTP face over the alerting service's RPC patterns. */
@Module({ controllers: [AlertsController] })
export class AlertsApiModule {}
