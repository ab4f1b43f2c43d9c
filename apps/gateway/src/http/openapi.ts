import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { AGENT_SIGNATURE_HEADER } from '@app/contracts';

type Operation = OpenAPIObject['paths'][string]['get'] & object;
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** The body of every refusal (DomainErrorFilter): the code to branch on, the sentence to show, the fields. */
const ERROR_SCHEMA = {
  type: 'object',
  required: ['statusCode', 'code', 'message'],
  properties: {
    statusCode: { type: 'integer', example: 400 },
    code: { type: 'string', example: 'VALIDATION_FAILED' },
    message: { type: 'string', example: 'name: required' },
    errors: {
      type: 'array',
      description: 'On a 400: each field the API names, and why',
      items: {
        type: 'object',
        required: ['field', 'reason'],
        properties: {
          field: { type: 'string', example: 'name' },
          reason: { type: 'string', example: 'required' },
        },
      },
    },
  },
} as const;

/**
 * `/docs` and `/docs-json`: the controllers' decorators, plus what holds for every operation and would
 * otherwise be repeated on each: the error body of every 4xx, and the security of the routes that take
 * no API key (agents sign their intake requests; install scripts, charts and health are public).
 */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Agent Connector API')
      .setDescription(
        'Provision agents, track the fleet, query metrics, alert. Every /api/v1 route but the agent intake ' +
          'takes an organisation API key (`Authorization: Bearer rca_ak_…`) and sees only its organisation.',
      )
      .setVersion('1')
      .setLicense(
        'UNLICENSED (proprietary)',
        'https://docs.npmjs.com/cli/configuring-npm/package-json#license',
      )
      .addServer('/', 'This gateway')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Organisation API key (rca_ak_…)' })
      .addApiKey(
        {
          type: 'apiKey',
          in: 'header',
          name: AGENT_SIGNATURE_HEADER,
          description: "The agent's Ed25519 signature over the exact body (see docs/protocol.md)",
        },
        'agentSignature',
      )
      .build(),
  );
  return completeOperations(document);
}

export function completeOperations(document: OpenAPIObject): OpenAPIObject {
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, ErrorResponse: ERROR_SCHEMA as never },
  };
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method] as Operation | undefined;
      if (!operation) continue;
      if (!operation.security) {
        const signed = (operation.parameters ?? []).some(
          (p) => 'name' in p && p.name.toLowerCase() === AGENT_SIGNATURE_HEADER,
        );
        operation.security = signed ? [{ agentSignature: [] }] : [];
      }
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (!/^[45]/.test(status) || !response || '$ref' in response || response.content) continue;
        response.content = { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } } };
      }
    }
  }
  return document;
}
