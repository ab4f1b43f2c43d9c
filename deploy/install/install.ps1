<#
.SYNOPSIS
  Installs the rca-agent as a Windows service. Run in an elevated PowerShell:

  & ([scriptblock]::Create((Invoke-RestMethod '<platform>/install.ps1'))) -Token 'rca_et_...' `
      -NatsUrl 'nats://...' -PlatformUrl 'https://...' -LogLevel 'info' [-CaPin 'sha256:...']

.DESCRIPTION
  1. Checks for Node.js 20+ and installs the agent with npm (from <PlatformUrl>/downloads/rca-agent.tgz
     unless -Package says otherwise).
  2. Node.js cannot talk to the Service Control Manager itself, so the service host is WinSW
     (https://github.com/winsw/winsw), a single signed executable, downloaded from -ServiceWrapperUrl.
  3. Writes C:\ProgramData\rca-agent\rca-agent.xml (service definition and RCA_* environment, readable
     by SYSTEM and Administrators only: it holds the enrollment token), registers and starts the service.

  -DryRun writes the files under -Root (default: a new temporary folder) and installs/starts nothing.
#>
[CmdletBinding()]
param(
  [Parameter(Mandatory = $true)][string]$Token,
  [Parameter(Mandatory = $true)][string]$NatsUrl,
  [string]$PlatformUrl = '',
  [ValidatePattern('^(|sha256:[0-9a-f]{64})$')][string]$CaPin = '',
  [ValidateSet('debug', 'info', 'warn', 'error')][string]$LogLevel = 'info',
  [string]$Environment = '',
  [string]$Labels = '',
  [string]$Package = '',
  [string]$ServiceWrapperUrl = 'https://github.com/winsw/winsw/releases/download/v2.12.0/WinSW-x64.exe',
  [switch]$DryRun,
  [string]$Root = ''
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$ServiceName = 'rca-agent'

function Write-Step([string]$Message) { Write-Host "==> $Message" }

function Invoke-Step([string]$Description, [scriptblock]$Action) {
  if ($DryRun) { Write-Host "[dry-run] $Description" } else { & $Action }
}

# XML-escapes a value for the WinSW file; values are data, never markup.
function ConvertTo-XmlText([string]$Value) { [System.Security.SecurityElement]::Escape($Value) }

if (-not $DryRun) {
  $principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
  if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    throw 'Run this in PowerShell opened with "Run as administrator".'
  }
}

$PlatformUrl = $PlatformUrl.TrimEnd('/')
if (-not $Package) {
  if (-not $PlatformUrl) { throw '-PlatformUrl or -Package is required (where to get the agent from).' }
  $Package = "$PlatformUrl/downloads/rca-agent.tgz"
}

if ($DryRun) {
  if (-not $Root) { $Root = Join-Path ([System.IO.Path]::GetTempPath()) ("rca-agent-dry-run-" + [guid]::NewGuid()) }
  Write-Step "dry run: writing under $Root; nothing is installed or started"
  $InstallDir = Join-Path $Root 'ProgramData\rca-agent'
} else {
  $InstallDir = Join-Path $env:ProgramData 'rca-agent'
}
$StateDir = Join-Path $InstallDir 'state'
$LogDir = Join-Path $InstallDir 'logs'
New-Item -ItemType Directory -Force -Path $InstallDir, $StateDir, $LogDir | Out-Null

# --- 1. the agent ---------------------------------------------------------------------------
if (-not $DryRun) {
  $node = Get-Command node -ErrorAction SilentlyContinue
  if (-not $node) { throw 'Node.js 20 or newer is required (https://nodejs.org); install it and re-run.' }
  $major = [int](& node -p 'parseInt(process.versions.node)')
  if ($major -lt 20) { throw "Node.js 20 or newer is required, found $(& node -v)." }
}
Write-Step "installing the agent: npm install -g $Package"
Invoke-Step "npm install -g $Package" { & npm install -g --no-fund --no-audit $Package; if ($LASTEXITCODE -ne 0) { throw 'npm install failed' } }
if ($DryRun) {
  $NodeExe = 'C:\Program Files\nodejs\node.exe'
  $AgentMain = 'C:\Program Files\nodejs\node_modules\rca-agent\dist\apps\agent\src\main.js'
} else {
  $NodeExe = (Get-Command node).Source
  $AgentMain = Join-Path (& npm root -g) 'rca-agent\dist\apps\agent\src\main.js'
  if (-not (Test-Path $AgentMain)) { throw "npm installed the package but $AgentMain is missing." }
}

# --- 2. the service definition (WinSW) --------------------------------------------------------
$envVars = [ordered]@{
  RCA_TOKEN      = $Token
  RCA_NATS_URL   = $NatsUrl
  RCA_AGENT_TYPE = 'server'
  RCA_LOG_LEVEL  = $LogLevel
  RCA_STATE_DIR  = $StateDir
}
if ($PlatformUrl) { $envVars['RCA_PLATFORM_URL'] = $PlatformUrl }
if ($CaPin) { $envVars['RCA_CA_PIN'] = $CaPin }
if ($Environment) { $envVars['RCA_ENVIRONMENT'] = $Environment }
if ($Labels) { $envVars['RCA_LABELS'] = $Labels }

$envXml = ($envVars.GetEnumerator() | ForEach-Object {
    "  <env name=""$($_.Key)"" value=""$(ConvertTo-XmlText $_.Value)"" />"
  }) -join "`r`n"
$serviceXml = @"
<service>
  <id>$ServiceName</id>
  <name>rca-agent (Agent Connector)</name>
  <description>Reports this server's metrics and heartbeats to the Agent Connector platform.</description>
  <executable>$(ConvertTo-XmlText $NodeExe)</executable>
  <arguments>"$(ConvertTo-XmlText $AgentMain)"</arguments>
  <startmode>Automatic</startmode>
  <onfailure action="restart" delay="5 sec" />
  <logpath>$(ConvertTo-XmlText $LogDir)</logpath>
  <log mode="roll-by-size"><sizeThreshold>10240</sizeThreshold><keepFiles>5</keepFiles></log>
$envXml
</service>
"@
$xmlPath = Join-Path $InstallDir "$ServiceName.xml"
$exePath = Join-Path $InstallDir "$ServiceName.exe"
Write-Step "writing $xmlPath"
Set-Content -Path $xmlPath -Value $serviceXml -Encoding UTF8

# The file holds the enrollment token: SYSTEM and Administrators only, no inherited access.
if (-not $DryRun) {
  $acl = New-Object System.Security.AccessControl.FileSecurity
  $acl.SetAccessRuleProtection($true, $false)
  foreach ($who in 'NT AUTHORITY\SYSTEM', 'BUILTIN\Administrators') {
    $acl.AddAccessRule((New-Object System.Security.AccessControl.FileSystemAccessRule($who, 'FullControl', 'Allow')))
  }
  Set-Acl -Path $xmlPath -AclObject $acl
}

# --- 3. register and start ------------------------------------------------------------------
Invoke-Step "download $ServiceWrapperUrl to $exePath" {
  [Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12
  Invoke-WebRequest -UseBasicParsing -Uri $ServiceWrapperUrl -OutFile $exePath
}
Invoke-Step "$exePath stop/uninstall (previous install), install, start" {
  if (Get-Service -Name $ServiceName -ErrorAction SilentlyContinue) {
    & $exePath stop | Out-Null
    & $exePath uninstall | Out-Null
  }
  & $exePath install
  if ($LASTEXITCODE -ne 0) { throw 'service registration failed' }
  & $exePath start
  if ($LASTEXITCODE -ne 0) { throw 'service did not start' }
}
Write-Step "done: Get-Service $ServiceName; logs in $LogDir"
