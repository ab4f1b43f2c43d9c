#!/bin/sh
# The Lambda extension launcher, /opt/extensions/rca-agent in the layer (npm run build:agent packs it):
# Lambda starts every file in /opt/extensions at init, and the file name is the extension's name. It
# maps what Lambda sets to the agent's variables and runs the bundle (/opt/rca-agent/main.js) with the
# function runtime's Node.js.
set -eu
export RCA_RUNTIME_API="${AWS_LAMBDA_RUNTIME_API:-}"
export RCA_REGION="${RCA_REGION:-${AWS_REGION:-}}"
export RCA_AGENT_TYPE=lambda
export RCA_STATE_DIR="${RCA_STATE_DIR:-/tmp/rca-agent}"
# The layer unpacks under /opt: the bundle is ../rca-agent from this file.
bundle="$(cd "$(dirname "$0")/.." && pwd)/rca-agent/main.js"
for node in "${RCA_NODE:-}" /var/lang/bin/node "$(command -v node 2>/dev/null || true)"; do
  if [ -n "$node" ] && [ -x "$node" ]; then exec "$node" "$bundle"; fi
done
echo 'rca-agent: this runtime has no Node.js; the agent layer needs nodejs20.x or nodejs22.x' >&2
exit 1
