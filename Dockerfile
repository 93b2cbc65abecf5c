# syntax=docker/dockerfile:1
# Build: compile TypeScript with the dev dependencies, then keep only the production ones.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci rejects a lockfile made where some optional platform packages were not served; fall back.
RUN npm ci --no-audit --no-fund || npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Run: the compiled service and its production dependencies, as the unprivileged `node` user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
# Heap sizing for a steady webhook load (scripts/lib/service-flags.mjs says why; a test keeps them equal).
ENV NODE_OPTIONS="--max-semi-space-size=8 --max-old-space-size=160"
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# GHL's OpenAPI documents: the GHL simulator (sandbox/demo) validates requests against them at run time.
COPY --chown=node:node openapi/upstream ./openapi/upstream
USER node
EXPOSE 3000
# `web` and `worker` run as separate processes in docker-compose.yml; `all` runs both in one.
CMD ["node", "dist/main.js", "all"]
