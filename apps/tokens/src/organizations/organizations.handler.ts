import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CreatedOrganization, CreateOrganizationRequest, Organization, Subjects } from '@app/contracts';
import { OrganizationsService } from './organizations.service';

@Controller()
export class OrganizationsHandler {
  constructor(private readonly organizations: OrganizationsService) {}

  @MessagePattern(Subjects.tokens.createOrganization)
  create(@Payload() request: CreateOrganizationRequest): Promise<CreatedOrganization> {
    return this.organizations.create(request.name, undefined, request.actor);
  }

  @MessagePattern(Subjects.tokens.listOrganizations)
  list(): Promise<Organization[]> {
    return this.organizations.list();
  }
}
