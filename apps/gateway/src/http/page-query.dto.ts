import { ApiPropertyOptional, ApiQueryOptions } from '@nestjs/swagger';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest } from '@app/contracts';

/** `?limit=&offset=` of every list route: the wire's PageRequest plus its OpenAPI description. */
export class PageQuery extends PageRequest {
  @ApiPropertyOptional({ default: DEFAULT_PAGE_SIZE, minimum: 1, maximum: MAX_PAGE_SIZE })
  declare limit?: number;

  @ApiPropertyOptional({ default: 0, minimum: 0 })
  declare offset?: number;
}

/** The same two parameters for a route whose query class comes from libs/contracts (see ApiQueries). */
export const PAGE_QUERY_DOC: ApiQueryOptions[] = [
  {
    name: 'limit',
    required: false,
    schema: { type: 'integer', default: DEFAULT_PAGE_SIZE, minimum: 1, maximum: MAX_PAGE_SIZE },
  },
  { name: 'offset', required: false, schema: { type: 'integer', default: 0, minimum: 0 } },
];
