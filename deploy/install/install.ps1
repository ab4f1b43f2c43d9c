<#
.SYNOPSIS
  Installs the rca-agent as a Windows service. Run in an elevated PowerShell:

  & ([scriptblock]::Create((Invoke-RestMethod '<platform>/install.ps1'))) -Token 'rca_et_...' `
      -NatsUrl 'nats://...' -PlatformUrl 'https://...' -LogLevel 'info' -BundleSha256 '<hex>' [-CaPin 'sha256:...']

.DESCRIPTION
  1. Checks for Node.js 20+, downloads the agent bundle (<PlatformUrl>/downloads/rca-agent-bundle.tgz),
     refuses it unless its SHA-256 equals -BundleSha256 (pinned in the command the platform generated),
     and unpacks it to C:\ProgramData\rca-agent\agent (no npm, nothing resolved at install time).
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
  [Parameter(Mandatory = $true)][ValidatePattern('^[0-9a-f]{64}$')][string]$BundleSha256,
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
if (-not $PlatformUrl) { throw '-PlatformUrl is required (where to get the agent from).' }
$BundleUrl = "$PlatformUrl/downloads/rca-agent-bundle.tgz"

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
# Downloaded and verified in a dry run too (into -Root): only the service is not registered.
$AgentDir = Join-Path $InstallDir 'agent'
$Download = Join-Path $InstallDir 'rca-agent-bundle.tgz'
Write-Step "downloading $BundleUrl"
[Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12
Invoke-WebRequest -UseBasicParsing -Uri $BundleUrl -OutFile $Download
$actual = (Get-FileHash -Algorithm SHA256 -Path $Download).Hash.ToLowerInvariant()
if ($actual -ne $BundleSha256) {
  Remove-Item -Force $Download
  throw "SHA-256 mismatch for ${BundleUrl}: expected $BundleSha256, got $actual; refusing to install it."
}
Write-Step "verified SHA-256 $actual"
$Unpacked = Join-Path $InstallDir 'unpacked'
if (Test-Path $Unpacked) { Remove-Item -Recurse -Force $Unpacked }
New-Item -ItemType Directory -Force -Path $Unpacked | Out-Null
& tar.exe -xzf $Download -C $Unpacked
if ($LASTEXITCODE -ne 0) { throw 'could not unpack the agent bundle' }
if (Test-Path $AgentDir) { Remove-Item -Recurse -Force $AgentDir }
Move-Item (Join-Path $Unpacked 'rca-agent') $AgentDir
Remove-Item -Recurse -Force $Unpacked, $Download
$AgentMain = Join-Path $AgentDir 'main.js'
if ($DryRun) {
  $NodeExe = 'C:\Program Files\nodejs\node.exe'
} else {
  $NodeExe = (Get-Command node).Source
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
