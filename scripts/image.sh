#!/usr/bin/env bash
# make image: the controller's OCI image FROM scratch, built here from the
# repository's own static binaries (no base image is pulled).
#
#   VERSION=0.1.0 scripts/image.sh        -> alphaswarm/controller:0.1.0
#
# IMAGE overrides the tag and IMAGE_CONTEXT the build context directory
# (default bin/image); the end-to-end test sets both so that runs side by
# side do not meet. The image holds:
#
#   /usr/bin/swarmctl                        the host and CLI, the entrypoint
#   /usr/lib/alphaswarm/plugins/swarm-backend-<name>   every plugin
#   /etc/alphaswarm/swarm.lock.hcl           their SHA-256, which the host checks
#   /etc/ssl/certs/ca-certificates.crt       this machine's CA bundle, for cloud APIs
#   /etc/passwd, /etc/group                  the user nonroot, uid/gid 65532
#   /data (owned by 65532), /tmp             SQLite state; tmpfs in the admin stack
#
# and no shell.
set -euo pipefail
umask 022
cd "$(dirname "$0")/.."
: "${VERSION:?set VERSION, e.g. VERSION=0.1.0 scripts/image.sh}"
GO=${GO:-go}
image=${IMAGE:-alphaswarm/controller:$VERSION}
ctx=${IMAGE_CONTEXT:-bin/image}
ca=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

plugins=(examples/backend-memory/cmd/swarm-backend-* plugins/*/cmd/swarm-backend-*)
rm -rf "$ctx"
root=$ctx/rootfs
mkdir -p "$root/usr/bin" "$root/usr/lib/alphaswarm/plugins" "$root/etc/alphaswarm" "$root/etc/ssl/certs" "$ctx/data"
mkdir -p -m 1777 "$root/tmp"

# Static binaries: no cgo, so nothing is needed beside them.
CGO_ENABLED=0 $GO build -trimpath \
	-ldflags "-X github.com/alphaswarm/controller/host/internal/version.Version=$VERSION" \
	-o "$root/usr/bin/swarmctl" ./host/cmd/swarmctl
CGO_ENABLED=0 $GO build -trimpath -o "$root/usr/lib/alphaswarm/plugins/" "${plugins[@]/#/./}"

# The lock file the host checks every plugin against at launch.
"$root/usr/bin/swarmctl" plugins lock -plugin-dir "$root/usr/lib/alphaswarm/plugins" \
	-lock-file "$root/etc/alphaswarm/swarm.lock.hcl" >/dev/null

cp "$ca" "$root/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/data:/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$root/etc/group"

cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
COPY --chown=65532:65532 data/ /data/
ENV ALPHASWARM_LISTEN=0.0.0.0:7373 \
    ALPHASWARM_DATA_DIR=/data \
    ALPHASWARM_PLUGIN_DIR=/usr/lib/alphaswarm/plugins \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    HOME=/data
USER 65532:65532
WORKDIR /data
VOLUME ["/data"]
EXPOSE 7373
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/bin/swarmctl", "healthcheck", "-timeout", "3s"]
ENTRYPOINT ["/usr/bin/swarmctl"]
CMD ["server", "-lock-file", "/etc/alphaswarm/swarm.lock.hcl"]
DOCKERFILE
cat >> "$ctx/Dockerfile" <<DOCKERFILE
LABEL org.opencontainers.image.title="alphaswarm-controller" \\
      org.opencontainers.image.version="$VERSION" \\
      org.opencontainers.image.licenses="Apache-2.0"
DOCKERFILE

# The legacy builder's deprecation notice is noise here: shown on failure only.
if ! out=$(docker build -q -t "$image" "$ctx" 2>&1); then
	echo "$out" >&2
	exit 1
fi
echo "$image"
