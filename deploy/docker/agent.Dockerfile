# The agent image (AGENT_IMAGE in generated docker/helm commands): the same bundle install.sh installs
# (npm run build:agent), run by Node. No node_modules, no install scripts: the bundle holds what the
# agent's types need, and the Docker and Kubernetes clients are chunks loaded only by those types.
# Build from the repository root: docker build -f deploy/docker/agent.Dockerfile -t rca/agent:0.1.0 .
# Settings are the RCA_* variables of docs/deploy-contract.md; state lives in /var/lib/rca-agent.

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# esbuild is all the bundle needs; no dependency's install script runs (nothing native is compiled).
RUN npm ci --ignore-scripts --no-fund --no-audit
COPY tsconfig.json ./
COPY scripts/build-agent.js scripts/build-agent.js
COPY libs libs
COPY apps/agent apps/agent
RUN node scripts/build-agent.js --no-binary

FROM node:20-slim
# glibc returns large freed blocks to the system instead of keeping them in malloc's heap: the Kubernetes
# agent (bundle) holds 68.5 MiB with it, 76-87 without (BENCHMARKS.md, "Lean agent").
ENV NODE_ENV=production \
    MALLOC_MMAP_THRESHOLD_=131072 \
    RCA_STATE_DIR=/var/lib/rca-agent
WORKDIR /app
COPY --from=build /app/dist/agent/bundle ./
# uid 10001 matches the Helm chart's runAsUser. The Docker agent reads /var/run/docker.sock, which
# is usually root:docker 0660: the generated `docker run` command passes --user 0:0 for that reason.
RUN groupadd --system --gid 10001 rca && useradd --system --uid 10001 --gid rca --home-dir /var/lib/rca-agent rca \
  && mkdir -p /var/lib/rca-agent && chown rca:rca /var/lib/rca-agent
USER 10001:10001
VOLUME ["/var/lib/rca-agent"]
ENTRYPOINT ["node", "main.js"]
