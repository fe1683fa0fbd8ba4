# The GitHub Action's container: the package and its pinned dependencies in a virtual environment.
# BASE_IMAGE can be any Debian-like image with python3 (and python3-venv); tests build on a local one.
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}

LABEL org.opencontainers.image.title="hud-sync-hook" \
      org.opencontainers.image.description="Plan HUD taskset changes on pull requests, upload them on merge"

ENV VIRTUAL_ENV=/opt/hud-sync-hook \
    PATH=/opt/hud-sync-hook/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# git reads the workspace; the runner mounts it owned by another user, so trust it system-wide
# (a --global setting would be lost: HOME moves to /github/home at run time).
# hadolint ignore=DL3008
RUN if ! command -v git >/dev/null 2>&1 || [ ! -f /etc/ssl/certs/ca-certificates.crt ]; then \
        apt-get update \
        && apt-get install -y --no-install-recommends git ca-certificates \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && git config --system --add safe.directory '*'

# pip trusts the system's certificate store (an older pip would otherwise use its own bundle).
COPY requirements-action.txt /tmp/requirements-action.txt
RUN python3 -m venv "$VIRTUAL_ENV" \
    && PIP_CERT=/etc/ssl/certs/ca-certificates.crt pip install --no-cache-dir --requirement /tmp/requirements-action.txt \
    && rm /tmp/requirements-action.txt

COPY pyproject.toml README.md /tmp/src/
COPY hud_sync_hook /tmp/src/hud_sync_hook
RUN PIP_CERT=/etc/ssl/certs/ca-certificates.crt pip install --no-cache-dir --no-deps /tmp/src \
    && rm -rf /tmp/src \
    && hud-sync-hook --version

ENTRYPOINT ["/opt/hud-sync-hook/bin/hud-sync-hook", "github"]
