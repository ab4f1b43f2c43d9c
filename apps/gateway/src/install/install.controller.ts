import { Controller, Get, Header, StreamableFile } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiContentResponse } from '../http/openapi.decorators';
import { AgentDownloads } from './agent-downloads';
import { InstallScripts } from './install-scripts';

/** Public: the scripts hold no secret; the token is an argument of the pasted command. */
@ApiTags('install')
@Controller()
export class InstallController {
  constructor(
    private readonly scripts: InstallScripts,
    private readonly downloads: AgentDownloads,
  ) {}

  @Get('install.sh')
  @Header('Content-Type', 'text/x-shellscript; charset=utf-8')
  @ApiOperation({ summary: 'Linux/macOS installer: `curl -fsSL <url>/install.sh | sudo sh -s -- --token …`' })
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

  @Get('downloads/rca-agent.tgz')
  @ApiOperation({
    summary: 'The agent as an npm package (what install.sh / install.ps1 install with npm -g)',
  })
  @ApiContentResponse('application/gzip', 'binary', 'npm package tarball')
  @ApiNotFoundResponse({ description: 'This gateway has no built agent to package' })
  async agentPackage(): Promise<StreamableFile> {
    return new StreamableFile(await this.downloads.agentPackage(), {
      type: 'application/gzip',
      disposition: 'attachment; filename="rca-agent.tgz"',
    });
  }
}
