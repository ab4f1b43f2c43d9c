import { ApiProperty } from '@nestjs/swagger';
import {
  AgentHealth,
  ComponentHealth,
  HealthReason,
  HealthReasonKind,
  HealthReasonKinds,
} from '@app/contracts';
import { SnakeCased } from '../live/snake-case';

export class HealthReasonView implements SnakeCased<HealthReason> {
  @ApiProperty({ enum: HealthReasonKinds, example: 'collector_errors' }) kind!: HealthReasonKind;
  @ApiProperty({
    example: 'collector:containers',
    description: '`collector:<name>`, `buffer`, `delivery` or `clock`',
  })
  component!: string;
  @ApiProperty({ example: 'containers: connect ENOENT /var/run/docker.sock' }) message!: string;
}

export class ComponentHealthView implements SnakeCased<ComponentHealth> {
  @ApiProperty({ example: 'buffer' }) component!: string;
  @ApiProperty({ example: true }) ok!: boolean;
  @ApiProperty({ example: '0 batches waiting, 0% full' }) detail!: string;
}

/** The health part of an agent's record, from its last heartbeat. */
export class AgentHealthView implements SnakeCased<AgentHealth> {
  @ApiProperty({ type: [HealthReasonView], description: 'Why the agent is degraded; empty when it is well' })
  reasons!: HealthReasonView[];
  @ApiProperty({
    type: [ComponentHealthView],
    description: 'Each part of the agent as its last heartbeat shows it',
  })
  components!: ComponentHealthView[];
  @ApiProperty({
    type: String,
    nullable: true,
    example: '0.1.0',
    description: 'Version in its last heartbeat',
  })
  version!: string | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    example: 1767607195000,
    description: 'That heartbeat, ms since epoch',
  })
  reported_at!: number | null;
}
