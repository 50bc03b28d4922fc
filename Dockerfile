# xScaler Portal: `docker build -t xscaler-portal .` (README, "Production").
# Node 20, the version the suite and CI run on (engines: >=20.19).
ARG NODE_IMAGE=node:20-bookworm-slim

# Build: what `npm ci` does (install, patches/ by postinstall, the UI and server build by
# prepare), split so the dependency layer is reused while the lock file and patches stay the same.
# The dev dependencies are then pruned, keeping the patched production ones.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund --ignore-scripts && npm run postinstall
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Runtime: node, the production dependencies and the build; no sources, no build tools run.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    PGLITE_DIR=/data/pglite
WORKDIR /app
# The app stays root's (read-only to the portal); only the embedded database's folder is its own.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/drizzle ./drizzle
RUN mkdir /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 4000
# /healthz says the process serves (not the database: /readyz is for load balancers). The slim
# image has no curl: node's fetch asks.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# `npm start`'s command, run directly: node is PID 1 and gets SIGTERM itself (npm's `sh -c`
# would not pass it on). Keep it equal to package.json's start script (a test checks).
CMD ["node", "--max-semi-space-size=32", "--enable-source-maps", "dist/server/main.js"]
