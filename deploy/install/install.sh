#!/bin/sh
# Installs the rca-agent as a service on Linux (systemd) or macOS (launchd).
#
#   curl -fsSL <platform>/install.sh | sudo sh -s -- --token rca_et_... --nats-url nats://... \
#     --platform-url https://... [--ca-pin sha256:...] [--log-level info] [--environment prod-1]
#
# --dry-run writes every file under --root (default: a new temporary directory) instead of /,
# and never installs packages or starts services; it prints what it would run.
set -eu

SERVICE_NAME=rca-agent
LAUNCHD_LABEL=io.rca.agent

token=""
nats_url=""
platform_url=""
log_level="info"
ca_pin=""
environment=""
labels=""
package=""
dry_run=0
root=""
os_name=""

die() {
  printf 'install.sh: %s\n' "$*" >&2
  exit 1
}

log() {
  printf '==> %s\n' "$*"
}

usage() {
  cat <<'USAGE'
Usage: install.sh --token <rca_et_...> --nats-url <nats://...> [options]

  --token <token>         enrollment token (required)
  --nats-url <urls>       NATS URL(s), comma-separated (required)
  --platform-url <url>    gateway base URL: enrollment, identity renewal, HTTP intake (required)
  --ca-pin <sha256:hex>   pin of the platform's own CA: the agent trusts that CA only if it matches
  --log-level <level>     debug | info | warn | error (default: info)
  --environment <name>    environment name, informational (the token decides)
  --labels <k=v,...>      labels sent at enrollment
  --package <spec>        npm package spec to install (default: <platform-url>/downloads/rca-agent.tgz)
  --os <linux|macos>      override OS detection
  --dry-run               write files under --root, install and start nothing
  --root <dir>            file system root for --dry-run (default: a new temporary directory)
  -h, --help              this help
USAGE
}

# Every value ends up in a config file read by systemd or sh: refuse characters that could
# break out of its quoting instead of trying to escape them for two different parsers.
check_value() {
  case "$2" in
    *"'"* | *\\* | *'"'* | *'$'* | *'`'*) die "$1 contains a quote, backslash, \$ or backtick" ;;
  esac
  if [ "$(printf '%s' "$2" | wc -l)" -ne 0 ]; then
    die "$1 contains a newline"
  fi
}

need_value() {
  if [ "$#" -lt 2 ] || [ -z "$2" ]; then
    die "$1 needs a value"
  fi
}

while [ "$#" -gt 0 ]; do
  case "$1" in
    --token) need_value "$@"; token=$2; shift 2 ;;
    --nats-url) need_value "$@"; nats_url=$2; shift 2 ;;
    --platform-url) need_value "$@"; platform_url=$2; shift 2 ;;
    --log-level) need_value "$@"; log_level=$2; shift 2 ;;
    --ca-pin) need_value "$@"; ca_pin=$2; shift 2 ;;
    --environment) need_value "$@"; environment=$2; shift 2 ;;
    --labels) need_value "$@"; labels=$2; shift 2 ;;
    --package) need_value "$@"; package=$2; shift 2 ;;
    --os) need_value "$@"; os_name=$2; shift 2 ;;
    --root) need_value "$@"; root=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

[ -n "$token" ] || die "--token is required"
[ -n "$nats_url" ] || die "--nats-url is required"
[ -n "$platform_url" ] || die "--platform-url is required (the agent enrolls and renews its identity there)"
case "$ca_pin" in
  "" | sha256:????????????????????????????????????????????????????????????????) ;;
  *) die "--ca-pin must be sha256: followed by 64 hex digits" ;;
esac
case "$log_level" in
  debug | info | warn | error) ;;
  *) die "--log-level must be debug, info, warn or error" ;;
esac
for pair in "token:$token" "nats-url:$nats_url" "platform-url:$platform_url" "ca-pin:$ca_pin" "environment:$environment" \
  "labels:$labels" "package:$package"; do
  check_value "--${pair%%:*}" "${pair#*:}"
done
platform_url=${platform_url%/}
if [ -z "$package" ]; then
  [ -n "$platform_url" ] || die "--platform-url or --package is required (where to get the agent from)"
  package="$platform_url/downloads/rca-agent.tgz"
fi

if [ -z "$os_name" ]; then
  case "$(uname -s)" in
    Linux) os_name=linux ;;
    Darwin) os_name=macos ;;
    *) die "unsupported operating system $(uname -s); on Windows use install.ps1" ;;
  esac
fi
case "$os_name" in
  linux | macos) ;;
  *) die "--os must be linux or macos" ;;
esac

if [ "$dry_run" -eq 1 ]; then
  if [ -z "$root" ]; then
    root=$(mktemp -d "${TMPDIR:-/tmp}/rca-agent-dry-run.XXXXXX")
  fi
  log "dry run: writing under $root; nothing is installed or started"
else
  [ -z "$root" ] || die "--root is only allowed with --dry-run"
  [ "$(id -u)" -eq 0 ] || die "run as root (sudo sh -s -- ...)"
fi

# Runs a command, or only prints it in a dry run.
run() {
  if [ "$dry_run" -eq 1 ]; then
    printf '[dry-run] %s\n' "$*"
  else
    "$@"
  fi
}

if [ "$os_name" = linux ]; then
  config_dir="$root/etc/rca-agent"
  state_dir="/var/lib/rca-agent"
else
  config_dir="$root/usr/local/etc/rca-agent"
  state_dir="/usr/local/var/lib/rca-agent"
fi
config_file="$config_dir/agent.env"

# --- 1. the agent itself (Node.js 20+ and npm) ---------------------------------------------
if [ "$dry_run" -eq 0 ]; then
  command -v node >/dev/null 2>&1 || die "Node.js 20 or newer is required (https://nodejs.org); install it and re-run"
  command -v npm >/dev/null 2>&1 || die "npm is required (it ships with Node.js)"
  node_major=$(node -p 'parseInt(process.versions.node)')
  [ "$node_major" -ge 20 ] || die "Node.js 20 or newer is required, found $(node -v)"
fi
log "installing the agent: npm install -g $package"
run npm install -g --no-fund --no-audit "$package"
if [ "$dry_run" -eq 1 ]; then
  agent_bin=/usr/local/bin/rca-agent
else
  agent_bin="$(npm prefix -g)/bin/rca-agent"
  [ -x "$agent_bin" ] || die "npm installed the package but $agent_bin is missing"
fi

# --- 2. configuration (0600: it holds the enrollment token) -----------------------------------
log "writing $config_file"
mkdir -p "$config_dir"
chmod 0755 "$config_dir"
old_umask=$(umask)
umask 077
{
  printf '# rca-agent configuration, written by install.sh. Read by the service at start.\n'
  printf "RCA_TOKEN='%s'\n" "$token"
  printf "RCA_NATS_URL='%s'\n" "$nats_url"
  printf "RCA_PLATFORM_URL='%s'\n" "$platform_url"
  [ -z "$ca_pin" ] || printf "RCA_CA_PIN='%s'\n" "$ca_pin"
  printf "RCA_AGENT_TYPE='server'\n"
  printf "RCA_LOG_LEVEL='%s'\n" "$log_level"
  printf "RCA_STATE_DIR='%s'\n" "$state_dir"
  [ -z "$environment" ] || printf "RCA_ENVIRONMENT='%s'\n" "$environment"
  [ -z "$labels" ] || printf "RCA_LABELS='%s'\n" "$labels"
} >"$config_file"
chmod 0600 "$config_file"
umask "$old_umask"

# --- 3. the service ------------------------------------------------------------------------
if [ "$os_name" = linux ]; then
  unit_file="$root/etc/systemd/system/$SERVICE_NAME.service"
  log "writing $unit_file"
  mkdir -p "$(dirname "$unit_file")"
  cat >"$unit_file" <<UNIT
[Unit]
Description=rca-agent (Agent Connector)
Documentation=$platform_url/docs
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
EnvironmentFile=/etc/rca-agent/agent.env
ExecStart=$agent_bin
Restart=always
RestartSec=5
# 64 bad config, 77 enrollment token refused, 78 agent revoked: restarting cannot help.
RestartPreventExitStatus=64 77 78
# No root needed to read host metrics: a throw-away user owning only its state directory.
DynamicUser=yes
StateDirectory=rca-agent
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
UNIT
  chmod 0644 "$unit_file"
  run systemctl daemon-reload
  run systemctl enable "$SERVICE_NAME.service"
  run systemctl restart "$SERVICE_NAME.service"
  log "done: systemctl status $SERVICE_NAME; journalctl -u $SERVICE_NAME -f"
else
  plist_file="$root/Library/LaunchDaemons/$LAUNCHD_LABEL.plist"
  log "writing $plist_file"
  mkdir -p "$(dirname "$plist_file")" "$root$state_dir" "$root/usr/local/var/log"
  cat >"$plist_file" <<PLIST
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>$LAUNCHD_LABEL</string>
  <key>ProgramArguments</key>
  <array>
    <string>/bin/sh</string>
    <string>-c</string>
    <string>set -a; . /usr/local/etc/rca-agent/agent.env; set +a; exec "$agent_bin"</string>
  </array>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <true/>
  <key>StandardOutPath</key>
  <string>/usr/local/var/log/rca-agent.log</string>
  <key>StandardErrorPath</key>
  <string>/usr/local/var/log/rca-agent.log</string>
</dict>
</plist>
PLIST
  chmod 0644 "$plist_file"
  run launchctl bootout "system/$LAUNCHD_LABEL" 2>/dev/null || true
  run launchctl bootstrap system "/Library/LaunchDaemons/$LAUNCHD_LABEL.plist"
  run launchctl enable "system/$LAUNCHD_LABEL"
  log "done: sudo launchctl print system/$LAUNCHD_LABEL; tail -f /usr/local/var/log/rca-agent.log"
fi
