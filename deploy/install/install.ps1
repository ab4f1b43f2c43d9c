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
  3. Locks C:\ProgramData\rca-agent down before anything is written to it (icacls: inheritance removed,
     SYSTEM and Administrators full control), writes rca-agent.xml (service definition and RCA_*
     environment, including the enrollment token) there, registers the service, switches it from
     LocalSystem to its virtual account NT SERVICE\rca-agent (sc.exe config obj=), grants that account
     read access to the folder and modify access to state\ and logs\ only, and starts it.

  The token is a parameter of this script block, which runs inside the PowerShell you pasted it into:
  it is no process's command line. -TokenFile <path> reads it from a file instead (first line).

  -DryRun writes the files under -Root (default: a new temporary folder) and installs/starts nothing.
#>
[CmdletBinding()]
param(
  [string]$Token = '',
  [string]$TokenFile = '',
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
# The service's virtual account: exists once the service is registered, needs no password, is no admin.
$ServiceAccount = "NT SERVICE\$ServiceName"

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

if ($TokenFile) {
  if ($Token) { throw 'Give -Token or -TokenFile, not both.' }
  $Token = (Get-Content -LiteralPath $TokenFile -TotalCount 1).Trim()
}
if (-not $Token) { throw '-Token (or -TokenFile) is required.' }

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

# Before anything is written: the whole folder (agent, service definition with the token, state with the
# agent's key, logs) loses what it inherits from C:\ProgramData (which lets local users read) and keeps
# SYSTEM and Administrators only, for itself and everything created below it; the files of an earlier
# install (whose rca-agent.xml had an ACL of its own) are reset to inherit exactly that.
# (*S-1-5-18 is SYSTEM, *S-1-5-32-544 Administrators: SIDs, so a localised Windows matches as well.)
Invoke-Step "icacls $InstallDir /inheritance:r /grant:r SYSTEM and Administrators (OI)(CI)F; icacls $InstallDir\* /reset /T" {
  & icacls.exe $InstallDir /inheritance:r /grant:r '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F' /C /Q | Out-Null
  if ($LASTEXITCODE -ne 0) { throw "icacls could not restrict $InstallDir" }
  & icacls.exe (Join-Path $InstallDir '*') /reset /T /C /Q | Out-Null
  if ($LASTEXITCODE -ne 0) { throw "icacls could not reset the files under $InstallDir" }
}

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

# The file holds the enrollment token: it inherits the folder's ACL set above (SYSTEM, Administrators, and
# read for the service account once it exists).

# --- 3. register and start ------------------------------------------------------------------
Invoke-Step "download $ServiceWrapperUrl to $exePath" {
  [Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12
  Invoke-WebRequest -UseBasicParsing -Uri $ServiceWrapperUrl -OutFile $exePath
}
Invoke-Step "$exePath stop/uninstall (previous install), install" {
  if (Get-Service -Name $ServiceName -ErrorAction SilentlyContinue) {
    & $exePath stop | Out-Null
    & $exePath uninstall | Out-Null
  }
  & $exePath install
  if ($LASTEXITCODE -ne 0) { throw 'service registration failed' }
}
# Not LocalSystem: the service's own virtual account (no password; Windows manages it).
Invoke-Step "sc.exe config $ServiceName obj= $ServiceAccount" {
  & sc.exe config $ServiceName obj= $ServiceAccount | Out-Null
  if ($LASTEXITCODE -ne 0) { throw "could not make the service run as $ServiceAccount" }
}
# The account reads the agent and its definition but may change nothing there (a compromised agent cannot
# rewrite its own code or service); it may modify only its state (its key) and its logs.
Invoke-Step "icacls: $ServiceAccount read & execute on $InstallDir, modify on $StateDir and $LogDir" {
  & icacls.exe $InstallDir /grant:r "${ServiceAccount}:(OI)(CI)RX" /C /Q | Out-Null
  if ($LASTEXITCODE -ne 0) { throw "icacls could not grant $ServiceAccount read access" }
  foreach ($dir in $StateDir, $LogDir) {
    & icacls.exe $dir /grant:r "${ServiceAccount}:(OI)(CI)M" /C /Q | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "icacls could not grant $ServiceAccount modify access on $dir" }
  }
}
Invoke-Step "$exePath start" {
  & $exePath start
  if ($LASTEXITCODE -ne 0) { throw 'service did not start' }
}
Write-Step "done: Get-Service $ServiceName; logs in $LogDir"
