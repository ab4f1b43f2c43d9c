import { Controller, Get, Header, StreamableFile } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiContentResponse } from '../http/openapi.decorators';
import { AgentDownload, AgentDownloads } from './agent-downloads';
import { InstallScripts } from './install-scripts';

/** Public: the scripts and the agent hold no secret; the token is in the pasted command, and so are the files' SHA-256. */
@ApiTags('install')
@Controller()
export class InstallController {
  constructor(
    private readonly scripts: InstallScripts,
    private readonly downloads: AgentDownloads,
  ) {}

  @Get('install.sh')
  @Header('Content-Type', 'text/x-shellscript; charset=utf-8')
  @ApiOperation({
    summary:
      'Linux/macOS installer: downloaded by the generated command, which pipes the token in: `… | sudo sh "$f" --token-file - …`',
  })
  @ApiContentResponse('text/x-shellscript', 'text', 'POSIX sh script')
  sh(): string {
    return this.scripts.sh;
  }

  @Get('install.ps1')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @ApiOperation({ summary: 'Windows installer (elevated PowerShell), installs the agent as a service' })
  @ApiContentResponse('text/plain', 'text', 'PowerShell script')
  ps1(): string {
    return this.scripts.ps1;
  }

  @Get('downloads/rca-agent-bundle.tgz')
  @ApiOperation({
    summary:
      'The agent as one Node.js bundle (main.js and its lazily loaded chunks; install.sh / install.ps1 on hosts without a binary)',
  })
  @ApiContentResponse('application/gzip', 'binary', 'tar.gz of rca-agent/main.js and rca-agent/chunks/*.js')
  @ApiNotFoundResponse({ description: 'This gateway has no agent build' })
  bundle(): StreamableFile {
    return this.serve('bundle', 'application/gzip');
  }

  @Get('downloads/rca-agent-linux-x64')
  @ApiOperation({
    summary: 'The agent as a self-contained Linux x64 executable (what install.sh installs there)',
  })
  @ApiContentResponse(
    'application/octet-stream',
    'binary',
    'ELF executable (Node.js single executable application)',
  )
  @ApiNotFoundResponse({ description: 'This gateway has no Linux x64 agent binary' })
  linuxBinary(): StreamableFile {
    return this.serve('linux-x64', 'application/octet-stream');
  }

  @Get('downloads/rca-agent-lambda-layer.zip')
  @ApiOperation({
    summary:
      "The agent as a Lambda extension layer (extensions/rca-agent and the bundle), published by the lambda type's command",
  })
  @ApiContentResponse(
    'application/zip',
    'binary',
    'zip of extensions/rca-agent and rca-agent/main.js, chunks/*.js',
  )
  @ApiNotFoundResponse({ description: 'This gateway has no agent build with a Lambda layer' })
  lambdaLayer(): StreamableFile {
    return this.serve('lambda-layer', 'application/zip');
  }

  private serve(download: AgentDownload, type: string): StreamableFile {
    const { artifact, data } = this.downloads.file(download);
    return new StreamableFile(data, {
      type,
      length: data.length,
      disposition: `attachment; filename="${artifact.file}"`,
    });
  }
}
