import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  Alert,
  AlertDelivery,
  ListAlertsRequest,
  ListDeliveriesRequest,
  Page,
  Subjects,
} from '@app/contracts';
import { AlertsService } from './alerts.service';

@Controller()
export class AlertsHandler {
  constructor(private readonly alerts: AlertsService) {}

  @MessagePattern(Subjects.alerts.list)
  list(@Payload() request: ListAlertsRequest): Promise<Page<Alert>> {
    return this.alerts.list(request.organizationId, request.query);
  }

  @MessagePattern(Subjects.alerts.listDeliveries)
  listDeliveries(@Payload() request: ListDeliveriesRequest): Promise<Page<AlertDelivery>> {
    return this.alerts.listDeliveries(request.organizationId, request.query);
  }
}
