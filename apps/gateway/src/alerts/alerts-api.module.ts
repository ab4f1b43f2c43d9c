import { Module } from '@nestjs/common';
import { AgentNames } from '../agents/agent-names';
import { AlertsController } from './alerts.controller';

/** `/api/v1/alerts/…`: a thin HTTP face over the alerting service's RPC patterns. */
@Module({ controllers: [AlertsController], providers: [AgentNames] })
export class AlertsApiModule {}
