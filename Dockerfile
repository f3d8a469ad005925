# AICP on the current Node LTS. Everything is compiled here, at build time: the container starts the
# compiled server directly (no TypeScript loader, no build at start) as the unprivileged `node` user.
# Written and checked by reading; the machines this project is developed on run no container engine.

FROM node:24-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 downloads a prebuilt binary when it can and compiles itself when it cannot.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build:server \
 && npm run build:web \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    DATABASE_URL=/app/data/aicp.sqlite
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
# The SQLite file (when DATABASE_URL is not PostgreSQL) lives in a volume the `node` user owns.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME ["/app/data"]
USER node
EXPOSE 4000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/graphql',{method:'POST',headers:{'content-type':'application/json'},body:'{\"query\":\"{ health { database { status } } }\"}'}).then(r=>r.json()).then(b=>process.exit(b.data.health.database.status==='DOWN'?1:0),()=>process.exit(1))"
# SIGTERM (docker stop) lets in-flight calls finish and hands the rest back; give it the 10 s it takes.
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
