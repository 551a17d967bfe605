# kafka-sse-gateway container image.
#
#   docker build -t kafka-sse-gateway .
#   docker run --rm -p 3000:3000 -p 127.0.0.1:9464:9464 -e KAFKA_BROKERS=broker:9092 \
#     -e JWT_SECRET=... -e JWT_AUDIENCE=my-app kafka-sse-gateway
#
# All configuration is by environment variable (src/config/gateway.config.ts). The Kafka topics
# must exist before the gateway starts; docker-compose.yml creates them in its kafka-init service.

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: all dependencies, compile, then drop the dev dependencies ------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app

# Manifests first, so a source-only change reuses the installed dependencies layer.
# No dependency needs an install script (npm 11 would not run them unapproved anyway).
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY src ./src
# The browser client, served at /client.js (unless CLIENT_BUNDLE=false) and loaded by the demo page.
COPY client ./client
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime: production dependencies and dist/ only, as the unprivileged node user ----------
FROM ${NODE_IMAGE} AS runtime
# Production refuses unsafe settings; metrics, probes and docs go to the management port.
ENV NODE_ENV=production MANAGEMENT_PORT=9464
WORKDIR /app

# Files stay owned by root: the node user can read them but not change them.
# package.json is needed at run time: its "type": "module" makes dist/*.js ES modules.
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/client/dist ./client/dist

USER node
# Streams on 3000; metrics, probes and docs on the management port, for the orchestrator only.
EXPOSE 3000 9464

# Uses node's own fetch, so the image needs no curl or wget. Asks the management port (the public
# port if MANAGEMENT_PORT is emptied); assumes HOST is 0.0.0.0 (the default) or another address
# reachable through 127.0.0.1.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.MANAGEMENT_PORT||process.env.PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# node runs as PID 1 and handles SIGTERM itself (the app enables Nest's shutdown hooks). The node
# flags are `npm start`'s (see the README's "Performance"): a larger young generation lets the
# garbage of each record die young instead of being copied next to the replay store.
CMD ["node", "--max-semi-space-size=32", "dist/main.js"]
