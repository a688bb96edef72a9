# memcached-ts in a container: built with the dev dependencies, run with the runtime ones only,
# as a non-root user, with the snapshot and the journal in the /data volume.
#   docker build -t memcached-ts .
#   docker run -d -p 11211:11211 -v memcached-ts-data:/data memcached-ts
# Arguments after the image name replace the default options (CMD).
FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` builds, and the sources are not copied in yet
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

FROM node:24-slim
ENV NODE_ENV=production
# glibc's malloc tuned from the start (memory freed after large replies goes back to the
# system); without it the daemon re-executes itself once to set it
ENV MALLOC_MMAP_THRESHOLD_=65536
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /src/dist/src ./dist/src
COPY bin ./bin
COPY man ./man
COPY LICENSE README.md ./
# the image's `node` user (uid 1000) owns the data directory; the daemon never runs as root
# (with `docker run --user root` it would refuse to start without -u, as memcached does)
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 11211
# SIGTERM (docker stop) is a graceful stop that writes the final snapshot: allow it time with
# `docker stop -t 60` for a large cache
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/bin/memcached-ts.js"]
CMD ["-p", "11211", "-U", "0", "-l", "0.0.0.0", "-m", "1024", \
     "--snapshot-file", "/data/snapshot", "--snapshot-interval", "300", \
     "--journal-file", "/data/journal"]
