# The agent image (AGENT_IMAGE in generated docker/helm commands).
# Build from the repository root: docker build -f deploy/docker/agent.Dockerfile -t rca/agent:0.1.0 .
# Settings are the RCA_* variables of docs/deploy-contract.md; state lives in /var/lib/rca-agent.

FROM node:20-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-fund --no-audit
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY libs libs
COPY apps apps
RUN npm run build && npm prune --omit=dev

FROM node:20-slim
ENV NODE_ENV=production \
    RCA_STATE_DIR=/var/lib/rca-agent
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# uid 10001 matches the Helm chart's runAsUser. The Docker agent reads /var/run/docker.sock, which
# is usually root:docker 0660: the generated `docker run` command passes --user 0:0 for that reason.
RUN groupadd --system --gid 10001 rca && useradd --system --uid 10001 --gid rca --home-dir /var/lib/rca-agent rca \
  && mkdir -p /var/lib/rca-agent && chown rca:rca /var/lib/rca-agent
USER 10001:10001
VOLUME ["/var/lib/rca-agent"]
ENTRYPOINT ["node", "dist/apps/agent/src/main.js"]
