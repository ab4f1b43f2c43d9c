#!/bin/sh
# Installs the rca-agent as a service on Linux (systemd) or macOS (launchd).
#
#   printf '%s\n' rca_et_... | sudo sh install.sh --token-file - --nats-url nats://... \
#     --platform-url https://... --bundle-sha256 <hex> [--binary-sha256 <hex>] [--ca-pin sha256:...]
#
# The platform's generated command downloads this script to a temporary file and pipes the enrollment
# token into it (printf is a shell builtin): the token is never an argument of a process (ps, /proc).
#
# The agent comes from <platform-url>/downloads/: on Linux x64 a self-contained executable, elsewhere a
# bundle run by Node.js 20+. Either is installed only if its SHA-256 equals the one in the command.
#
# --dry-run writes every file under --root (default: a new temporary directory) instead of /: it
# downloads and verifies the agent into that root but starts no service; it prints what it would run.
set -eu

SERVICE_NAME=rca-agent
LAUNCHD_LABEL=io.rca.agent
# The Linux service's own system user: it owns only the state directory (the agent's key lives there).
SERVICE_USER=rca-agent

token=""
token_file=""
nats_url=""
platform_url=""
log_level="info"
ca_pin=""
environment=""
labels=""
bundle_sha256=""
binary_sha256=""
arch=""
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

  --token <token>         enrollment token (required, or --token-file)
  --token-file <path>     read the enrollment token from the first line of a file instead (keeps it out
                          of the process list and shell history; e.g. written by configuration management);
                          "-" reads it from standard input (what the platform's generated command does)
  --nats-url <urls>       NATS URL(s), comma-separated (required)
  --platform-url <url>    gateway base URL: enrollment, identity renewal, HTTP intake (required)
  --ca-pin <sha256:hex>   pin of the platform's own CA: the agent trusts that CA only if it matches
  --log-level <level>     debug | info | warn | error (default: info)
  --environment <name>    environment name, informational (the token decides)
  --labels <k=v,...>      labels sent at enrollment
  --bundle-sha256 <hex>   SHA-256 of rca-agent-bundle.tgz (required: the agent is verified before install)
  --binary-sha256 <hex>   SHA-256 of rca-agent-linux-x64 (Linux x64: installs the executable, no Node.js)
  --os <linux|macos>      override OS detection
  --arch <machine>        override uname -m (x86_64 gets the executable)
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
    --token-file) need_value "$@"; token_file=$2; shift 2 ;;
    --nats-url) need_value "$@"; nats_url=$2; shift 2 ;;
    --platform-url) need_value "$@"; platform_url=$2; shift 2 ;;
    --log-level) need_value "$@"; log_level=$2; shift 2 ;;
    --ca-pin) need_value "$@"; ca_pin=$2; shift 2 ;;
    --environment) need_value "$@"; environment=$2; shift 2 ;;
    --labels) need_value "$@"; labels=$2; shift 2 ;;
    --bundle-sha256) need_value "$@"; bundle_sha256=$2; shift 2 ;;
    --binary-sha256) need_value "$@"; binary_sha256=$2; shift 2 ;;
    --os) need_value "$@"; os_name=$2; shift 2 ;;
    --arch) need_value "$@"; arch=$2; shift 2 ;;
    --root) need_value "$@"; root=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

if [ "$token_file" = - ]; then
  [ -z "$token" ] || die "give --token or --token-file, not both"
  # All of standard input, not only its first line: a token with a newline is refused below.
  token=$(tr -d '\r')
  [ -n "$token" ] || die "--token-file - read no token from standard input"
elif [ -n "$token_file" ]; then
  [ -z "$token" ] || die "give --token or --token-file, not both"
  [ -r "$token_file" ] || die "--token-file $token_file is not readable"
  token=$(head -n 1 "$token_file" | tr -d '\r')
  [ -n "$token" ] || die "--token-file $token_file holds no token on its first line"
fi
[ -n "$token" ] || die "--token is required"
[ -n "$nats_url" ] || die "--nats-url is required"
[ -n "$platform_url" ] || die "--platform-url is required (the agent enrolls and renews its identity there)"
case "$ca_pin" in
  "" | sha256:????????????????????????????????????????????????????????????????) ;;
  *) die "--ca-pin must be sha256: followed by 64 hex digits" ;;
esac
for pair in "bundle-sha256:$bundle_sha256" "binary-sha256:$binary_sha256"; do
  case "${pair#*:}" in
    "" | ????????????????????????????????????????????????????????????????) ;;
    *) die "--${pair%%:*} must be 64 hex digits" ;;
  esac
  case "${pair#*:}" in
    *[!0-9a-f]*) die "--${pair%%:*} must be 64 hex digits" ;;
  esac
done
case "$log_level" in
  debug | info | warn | error) ;;
  *) die "--log-level must be debug, info, warn or error" ;;
esac
for pair in "token:$token" "nats-url:$nats_url" "platform-url:$platform_url" "ca-pin:$ca_pin" "environment:$environment" \
  "labels:$labels" "arch:$arch"; do
  check_value "--${pair%%:*}" "${pair#*:}"
done
platform_url=${platform_url%/}

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

# Never install unverified code: the command the user pasted must carry the agent's hash.
[ -n "$bundle_sha256" ] || die "--bundle-sha256 is required: copy the whole command from the platform (it pins the agent's SHA-256)"

# --- 1. the agent itself, verified against the SHA-256 pinned in the command ----------------
[ -n "$arch" ] || arch=$(uname -m)
lib_dir="$root/usr/local/lib/rca-agent"
agent_bin=/usr/local/bin/rca-agent

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  elif command -v openssl >/dev/null 2>&1; then
    openssl dgst -sha256 -r "$1" | cut -d ' ' -f 1
  else
    die "sha256sum, shasum or openssl is needed to verify the agent"
  fi
}

download_dir=$(mktemp -d "${TMPDIR:-/tmp}/rca-agent-download.XXXXXX")
trap 'rm -rf "$download_dir"' EXIT

# Downloads <file> from the platform into the download directory; refuses it unless its SHA-256 is <hex>.
fetch_verified() {
  url="$platform_url/downloads/$1"
  log "downloading $url"
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL -o "$download_dir/$1" "$url" || die "could not download $url"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$download_dir/$1" "$url" || die "could not download $url"
  else
    die "curl or wget is needed to download the agent"
  fi
  actual=$(sha256_of "$download_dir/$1")
  [ "$actual" = "$2" ] || die "SHA-256 mismatch for $url: expected $2, got $actual; refusing to install it"
  log "verified SHA-256 $actual"
}

mkdir -p "$root/usr/local/bin"
if [ "$os_name" = linux ] && [ "$arch" = x86_64 ] && [ -n "$binary_sha256" ]; then
  fetch_verified rca-agent-linux-x64 "$binary_sha256"
  log "installing the self-contained agent at $agent_bin"
  chmod 0755 "$download_dir/rca-agent-linux-x64"
  mv -f "$download_dir/rca-agent-linux-x64" "$root$agent_bin"
  # A file just written stays cached whole, and the service mapping it then keeps ~10 MiB more of it
  # resident; written out and dropped from the page cache, it is mapped as after any reboot (GNU dd;
  # elsewhere a no-op).
  dd of="$root$agent_bin" oflag=nocache conv=notrunc,fdatasync count=0 status=none 2>/dev/null || true
else
  # Other platforms: the bundle, run by Node.js 20+ (no npm, nothing resolved at install time).
  node_bin=/usr/local/bin/node
  if [ "$dry_run" -eq 0 ]; then
    node_bin=$(command -v node) || die "Node.js 20 or newer is required on $os_name/$arch (https://nodejs.org); install it and re-run"
    node_major=$("$node_bin" -p 'parseInt(process.versions.node)')
    [ "$node_major" -ge 20 ] || die "Node.js 20 or newer is required, found $("$node_bin" -v)"
  fi
  fetch_verified rca-agent-bundle.tgz "$bundle_sha256"
  log "installing the agent bundle under /usr/local/lib/rca-agent"
  mkdir -p "$download_dir/unpacked"
  tar -xzf "$download_dir/rca-agent-bundle.tgz" -C "$download_dir/unpacked"
  [ -f "$download_dir/unpacked/rca-agent/main.js" ] || die "the bundle holds no rca-agent/main.js"
  rm -rf "$lib_dir"
  mkdir -p "$(dirname "$lib_dir")"
  mv "$download_dir/unpacked/rca-agent" "$lib_dir"
  printf '#!/bin/sh\nexec "%s" /usr/local/lib/rca-agent/main.js "$@"\n' "$node_bin" >"$root$agent_bin"
  chmod 0755 "$root$agent_bin"
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
# The state directory holds the agent's private key (agent.nk): its owner only, 0700.
mkdir -p "$root$state_dir"
chmod 0700 "$root$state_dir"
if [ "$os_name" = linux ]; then
  # No root needed to read host metrics (/proc, /sys, statfs): a system user with no shell and no login.
  if [ "$dry_run" -eq 1 ] || ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
    nologin=/usr/sbin/nologin
    [ -x "$nologin" ] || nologin=/sbin/nologin
    run useradd --system --user-group --no-create-home --home-dir "$state_dir" --shell "$nologin" \
      --comment "rca-agent (Agent Connector)" "$SERVICE_USER"
  fi
  run chown -R "$SERVICE_USER:$SERVICE_USER" "$state_dir"
fi

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
# No JIT: 6-8 MiB less RSS for the same CPU at a 10 s interval (BENCHMARKS.md, "Lean agent"). The server
# type runs no WebAssembly, which --jitless turns off.
Environment=NODE_OPTIONS=--jitless
# glibc: large blocks (such as the bundle's source, read at start) always from mmap, so they go back to the system
# when freed instead of staying in malloc's heap: ~3 MiB less RSS for the bundle, none lost for the executable.
Environment=MALLOC_MMAP_THRESHOLD_=131072
ExecStart=$agent_bin
Restart=always
RestartSec=5
# 64 bad config, 77 enrollment token refused, 78 agent revoked: restarting cannot help.
RestartPreventExitStatus=64 77 78
# Its own system user (created by install.sh), owning only the state directory; the environment file is
# read by systemd as root before the switch, so the user cannot read it back from disk.
User=$SERVICE_USER
Group=$SERVICE_USER
StateDirectory=rca-agent
StateDirectoryMode=0700
NoNewPrivileges=yes
CapabilityBoundingSet=
RestrictSUIDSGID=yes
# The file system read-only except the state directory; /home read-only rather than hidden, so the disk
# collector still sees a /home mount's usage.
ProtectSystem=strict
ReadWritePaths=$state_dir
ProtectHome=read-only
PrivateTmp=yes
ProtectKernelTunables=yes
ProtectControlGroups=yes

[Install]
WantedBy=multi-user.target
UNIT
  chmod 0644 "$unit_file"
  run systemctl daemon-reload
  run systemctl enable "$SERVICE_NAME.service"
  run systemctl restart "$SERVICE_NAME.service"
  log "done: systemctl status $SERVICE_NAME; journalctl -u $SERVICE_NAME -f"
else
  # Runs as root: macOS has no useradd --system; a hidden role user needs dscl with a hand-picked free
  # UniqueID below 500 (docs/deploying-agents.md). Its state directory is root-only (0700) instead.
  plist_file="$root/Library/LaunchDaemons/$LAUNCHD_LABEL.plist"
  log "writing $plist_file"
  mkdir -p "$(dirname "$plist_file")" "$root/usr/local/var/log"
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
    <string>set -a; . /usr/local/etc/rca-agent/agent.env; set +a; export NODE_OPTIONS=--jitless; exec "$agent_bin"</string>
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
