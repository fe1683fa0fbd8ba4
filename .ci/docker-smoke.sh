#!/usr/bin/env bash
# Container smoke test of the GitHub Action: build the image on a local Debian base and run it the
# way the runner does, against a local platform and a fake GitHub on 127.0.0.1.
#
# Skips (exit 0, with the reason) when no Docker engine can be used or started. Starts dockerd
# itself when needed and stops it, and everything else it started, on exit. The debootstrapped
# base image is cached in the engine between runs. Exit 1 when the image fails to build or the
# run does not do what it should.
set -euo pipefail
cd "$(dirname "$0")/.."

TOTAL_BUDGET=${SMOKE_BUDGET_SECONDS:-840}   # stay well under the CI budget
BASE_IMAGE=hud-sync-hook-smoke-base:bookworm
IMAGE=hud-sync-hook-smoke:local
SUITE=bookworm
PYTHON=${PYTHON:-$(command -v python || command -v python3)}
STARTED=$(date +%s)
WORK=$(mktemp -d /tmp/hud-docker-smoke.XXXXXX)
DOCKERD_PID=""

cleanup() {
  local status=$?
  if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    kill "$DOCKERD_PID" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$DOCKERD_PID" 2>/dev/null; then kill -9 "$DOCKERD_PID" 2>/dev/null || true; fi
  fi
  rm -rf "$WORK"
  echo "docker smoke test: finished in $(( $(date +%s) - STARTED ))s"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

skip() {
  echo "docker smoke test SKIPPED: $*"
  exit 0
}

bounded() {  # bounded SECONDS command...: the smaller of SECONDS and what is left of the budget
  local limit=$1; shift
  local remaining=$(( TOTAL_BUDGET - ($(date +%s) - STARTED) ))
  if [ "$remaining" -le 0 ]; then
    echo "docker smoke test: out of time (budget ${TOTAL_BUDGET}s)" >&2
    return 124
  fi
  [ "$limit" -lt "$remaining" ] || limit=$remaining
  timeout --kill-after=10 "$limit" "$@"
}

debian_mirror() {  # the Debian mirror configured for apt on this machine
  local mirror
  mirror=$(
    { cat /etc/apt/sources.list.d/*.sources 2>/dev/null; echo; } | awk -v suite="$SUITE" '
      /^[ \t]*$/ { if (uris != "" && ok) { print uris; exit } uris = ""; ok = 0; next }
      /^URIs:/   { uris = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
    '
  )
  if [ -z "$mirror" ]; then
    mirror=$(grep -hE "^deb[[:space:]]" /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
      | sed -E 's/\[[^]]*\]//' | awk -v suite="$SUITE" '$3 == suite { print $2; exit }')
  fi
  echo "${mirror:-http://deb.debian.org/debian}"
}

# -- 1. a Docker engine ----------------------------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || skip "no running Docker engine, and not root to start one"
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || skip "no dockerd and no apt-get to install it"
    echo "Installing docker.io and debootstrap..."
    bounded 300 apt-get update -qq >"$WORK/apt.log" 2>&1 \
      && DEBIAN_FRONTEND=noninteractive bounded 420 apt-get install -y -qq docker.io debootstrap >>"$WORK/apt.log" 2>&1 \
      || { tail -20 "$WORK/apt.log"; skip "could not install docker.io and debootstrap with apt-get"; }
  fi
  command -v dockerd >/dev/null 2>&1 || skip "dockerd is not available"
  echo "Starting dockerd..."
  dockerd >"$WORK/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    kill -0 "$DOCKERD_PID" 2>/dev/null || break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    tail -20 "$WORK/dockerd.log" || true
    skip "dockerd did not start (this machine may not allow containers)"
  fi
fi
docker_version=$(docker version --format '{{.Server.Version}}' 2>/dev/null || echo unknown)
echo "Docker engine ${docker_version} ready after $(( $(date +%s) - STARTED ))s"

# -- 2. a local Debian base image (cached) ----------------------------------------------------------
if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  echo "Using the cached base image $BASE_IMAGE"
else
  command -v debootstrap >/dev/null 2>&1 || {
    bounded 300 apt-get update -qq && DEBIAN_FRONTEND=noninteractive bounded 300 apt-get install -y -qq debootstrap
  } >"$WORK/apt.log" 2>&1 || skip "debootstrap is not available"
  mirror=$(debian_mirror)
  echo "Bootstrapping a minimal Debian $SUITE from $mirror ..."
  rootfs="$WORK/rootfs"
  if ! bounded 600 debootstrap --variant=minbase --include=python3,python3-venv,git,ca-certificates \
      "$SUITE" "$rootfs" "$mirror" >"$WORK/debootstrap.log" 2>&1; then
    tail -30 "$WORK/debootstrap.log"
    echo "docker smoke test FAILED: debootstrap did not finish"
    exit 1
  fi
  # This network's registries use a private CA: the image must trust what the host trusts.
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$rootfs/var/cache/apt/archives/"*.deb "$rootfs/var/lib/apt/lists/"*
  bounded 300 tar -C "$rootfs" -c . | docker import - "$BASE_IMAGE" >/dev/null
  echo "Imported $BASE_IMAGE after $(( $(date +%s) - STARTED ))s"
fi

# -- 3. the action's image ------------------------------------------------------------------------
echo "Building $IMAGE on $BASE_IMAGE ..."
if ! bounded 600 docker build --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$IMAGE" . >"$WORK/build.log" 2>&1; then
  tail -40 "$WORK/build.log"
  echo "docker smoke test FAILED: the image did not build"
  exit 1
fi
echo "Built $IMAGE ($(docker image inspect --format '{{.Size}}' "$IMAGE") bytes) after $(( $(date +%s) - STARTED ))s"

# -- 4. run it as the runner would ------------------------------------------------------------------
if ! bounded 600 "$PYTHON" -m tests.github.docker_smoke --image "$IMAGE"; then
  echo "docker smoke test FAILED"
  exit 1
fi
