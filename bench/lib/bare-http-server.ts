import 'reflect-metadata';
import { Body, Controller, HttpCode, HttpStatus, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { loadConfigOrExit } from '@app/config';

/**
 * The baseline of the control-plane scenario: the gateway's framework (NestJS 11 on
 * express, JSON body parsing) answering the same route with a fixed, provision-sized body
 * and no work behind it. Run by the bench as its own process, like the gateway.
 */
class BareServerConfig {
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65535)
  PORT: number = 3999;
}

const FIXED_RESPONSE = {
  agent_type: 'server',
  environment: 'bench',
  command:
    "curl -fsSL 'http://127.0.0.1:3000/install.sh' | sudo sh -s -- --token 'rca_et_0123456789ABCDEFGHIJKL000000' --nats-url 'nats://127.0.0.1:4222' --platform-url 'http://127.0.0.1:3000' --log-level 'info'",
  commands: [{ platform: 'linux', shell: 'sh', command: 'curl -fsSL …' }],
  instructions: ['Run the command on the host as root.', 'The agent appears in the fleet within a minute.'],
  enrollment_token: 'rca_et_0123456789ABCDEFGHIJKL000000',
  token_id: '0b0a5e2c-6d8f-4c65-9a3e-3f1c2b7d9e10',
  expires_at: null,
  config: { log_level: 'info' },
};

@Controller('api/v1')
class BareController {
  @Post('agent/provision')
  @HttpCode(HttpStatus.CREATED)
  provision(@Body() body: Record<string, unknown>) {
    return { ...FIXED_RESPONSE, agent_type: body.agent_type ?? FIXED_RESPONSE.agent_type };
  }
}

@Module({ controllers: [BareController] })
class BareModule {}

async function main() {
  const config = loadConfigOrExit(BareServerConfig);
  const app = await NestFactory.create(BareModule, { logger: ['error'] });
  app.enableShutdownHooks();
  await app.listen(config.PORT, '127.0.0.1');
}

void main();
