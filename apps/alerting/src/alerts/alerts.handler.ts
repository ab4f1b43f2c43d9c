import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  Alert,
  AlertActionRequest,
  AlertDelivery,
  ListAlertsRequest,
  ListDeliveriesRequest,
  Page,
  Subjects,
} from '@app/contracts';
import { AlertActionsService } from './alert-actions.service';
import { AlertsService } from './alerts.service';

@Controller()
export class AlertsHandler {
  constructor(
    private readonly alerts: AlertsService,
    private readonly actions: AlertActionsService,
  ) {}

  @MessagePattern(Subjects.alerts.acknowledge)
  acknowledge(@Payload() request: AlertActionRequest): Promise<Alert> {
    return this.actions.acknowledge(request.organizationId, request.alertId, request.actor);
  }

  @MessagePattern(Subjects.alerts.resolve)
  resolve(@Payload() request: AlertActionRequest): Promise<Alert> {
    return this.actions.resolve(request.organizationId, request.alertId);
  }

  @MessagePattern(Subjects.alerts.list)
  list(@Payload() request: ListAlertsRequest): Promise<Page<Alert>> {
    return this.alerts.list(request.organizationId, request.query);
  }

  @MessagePattern(Subjects.alerts.listDeliveries)
  listDeliveries(@Payload() request: ListDeliveriesRequest): Promise<Page<AlertDelivery>> {
    return this.alerts.listDeliveries(request.organizationId, request.query);
  }
}
