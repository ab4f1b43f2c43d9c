# One image for every platform service; the command picks the service:
#   docker run rca/service node dist/apps/gateway/src/main.js     (default)
#   docker run rca/service node dist/apps/tokens/src/main.js       (… provisioning, ingestion)
# Build from the repository root: docker build -f deploy/docker/service.Dockerfile -t rca/service:0.1.0 .

FROM node:20-slim AS build
WORKDIR /app
# Compilers only for native modules (better-sqlite3) when no prebuilt binary can be fetched.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-fund --no-audit
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY libs libs
COPY apps apps
# build runs scripts/build-agent.js (the agent bundle and executable the gateway serves under /downloads).
COPY scripts scripts
RUN npm run build && npm prune --omit=dev

FROM node:20-slim
ENV NODE_ENV=production \
    DATA_DIR=/app/data \
    DEPLOY_DIR=/app/deploy
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The gateway serves the Helm chart and the install scripts from here.
COPY deploy/helm ./deploy/helm
COPY deploy/install ./deploy/install
# `node` (uid 1000) comes with the base image; only the data directory is writable by it.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
CMD ["node", "dist/apps/gateway/src/main.js"]
