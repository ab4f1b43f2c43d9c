import { Controller, Get, Header, Param, StreamableFile } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { NotFoundError } from '@app/contracts';
import { ApiContentResponse } from '../http/openapi.decorators';
import { ChartRepository } from './chart-repository';

/** A Helm repository (`helm … rca-agent --repo <platform>/charts`). Public: the chart holds no secret. */
@ApiTags('install')
@Controller('charts')
export class ChartsController {
  constructor(private readonly charts: ChartRepository) {}

  @Get('index.yaml')
  @Header('Content-Type', 'application/x-yaml; charset=utf-8')
  @ApiOperation({ summary: 'Helm repository index' })
  @ApiContentResponse('application/x-yaml', 'text', 'index.yaml listing rca-agent')
  index(): string {
    return this.charts.indexYaml();
  }

  @Get(':file')
  @ApiOperation({ summary: 'The packaged chart, rca-agent-<version>.tgz' })
  @ApiContentResponse('application/gzip', 'binary', 'Chart archive')
  @ApiNotFoundResponse({ description: 'No chart by that name' })
  archive(@Param('file') file: string): StreamableFile {
    const archive = this.charts.archive(file);
    if (!archive) throw new NotFoundError(`chart ${file}`);
    return new StreamableFile(archive, {
      type: 'application/gzip',
      disposition: `attachment; filename="${file}"`,
    });
  }
}
