# syntax=docker/dockerfile:1
# One image for every Picard service; the command picks the service:
#   node gateway/dist/main.js | auth-service/dist/main.js | memory-service/dist/main.js
#   | embedding-service/dist/main.js | persona-service/dist/main.js
#   | client-app/server/dist/server/src/main.js (the web client: its BFF serves the built Angular app)
# (docker-compose.yml and render.yaml set it per service). `node dist/embedded.js` runs them all
# in one process (embedded mode, data under /app/data).
# Node.js 22, a supported LTS (20 reached end of life in April 2026; the test suite still runs on 20,
# the oldest release package.json allows).
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# A C toolchain for embedding-service's native addon (native/blas.c and packed-product.c: the model's
# matrix products; built by node-gyp against the image's own Node headers, so nothing is downloaded).
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV SCARF_ANALYTICS=false \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false \
    NPM_CONFIG_NODEDIR=/usr/local
# Manifests first, so the dependency layer is rebuilt only when they change.
COPY package.json package-lock.json ./
COPY proto/package.json proto/
COPY service-kit/package.json service-kit/
COPY auth-service/package.json auth-service/
COPY memory-service/package.json memory-service/
COPY embedding-service/package.json embedding-service/
COPY persona-service/package.json persona-service/
COPY gateway/package.json gateway/
COPY client-app/package.json client-app/
# The root `prepare` script builds, and the sources are not here yet: build explicitly below.
# No dependency needs an install script (pglite and the embedding model are WebAssembly/JS; the one
# native addon is Picard's own, built by `npm run build`).
RUN npm ci --ignore-scripts
COPY . .
# /out gets what the runtime needs: manifests, compiled code and production dependencies, the
# workspaces' own node_modules included (npm nests a dependency there when versions conflict,
# e.g. embedding-service/node_modules/lru-cache). node_modules/@picard/* are symlinks to them.
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts \
 && mkdir -p /out \
 && cp -a package.json package-lock.json node_modules dist /out/ \
 && for w in $(node -p "require('./package.json').workspaces.join(' ')"); do \
      mkdir -p "/out/$w" && cp -a "$w/package.json" "/out/$w/" \
      && for d in dist server/dist web/dist .pglite-template native/build/Release; do \
           if [ -d "$w/$d" ]; then mkdir -p "/out/$w/$(dirname "$d")" && cp -a "$w/$d" "/out/$w/$d"; fi; \
         done \
      && if [ -d "$w/node_modules" ]; then cp -a "$w/node_modules" "/out/$w/"; fi; \
    done

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# OpenBLAS for the embedding model's matrix products (without it the model runs its WebAssembly ones).
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends libopenblas0-pthread \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out ./
# Code stays root-owned and read-only to the service; only the embedded-mode data folder
# (PICARD_DATA_DIR default ./data) is writable.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
# Only the gateway is meant to be reached from outside; the web client's 8000 is published by
# docker-compose itself, and the gRPC ports stay on the deployment's private network.
EXPOSE 8001
CMD ["node", "gateway/dist/main.js"]
