# syntax=docker/dockerfile:1
# Buttons for Python, as a container: docs/container.md explains the choices and `make image-test` checks them.
#
# Build:  docker build -t buttons-engine .
#         (behind a TLS-intercepting proxy: --secret id=ssl_ca,src=$SSL_CERT_FILE; the bundle is mounted for
#         the one RUN that downloads and never lands in a layer)
# Run:    docker run --rm -v buttons-data:/data buttons-engine press NAME

# A slim Debian Python; `make image-test` swaps in a local debootstrap image (no registry reachable there).
ARG BASE_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------- build: wheel + locked deps
FROM ${BASE_IMAGE} AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1
WORKDIR /src
# uv itself, pinned by hash (the same file scripts/bootstrap uses).
COPY .ci/uv-requirements.txt /src/.ci/uv-requirements.txt
COPY pyproject.toml uv.lock README.md LICENSE /src/
COPY src /src/src
# One RUN does every download: uv (hash-checked), the wheel (uv's own build backend, no download),
# then the runtime dependencies exactly as locked, hash-checked, into /opt/buttons. pip is dropped
# from the result: the final image installs nothing at run time.
RUN --mount=type=secret,id=ssl_ca,target=/run/secrets/ssl_ca \
    if [ -s /run/secrets/ssl_ca ]; then export SSL_CERT_FILE=/run/secrets/ssl_ca PIP_CERT=/run/secrets/ssl_ca; fi \
    && python3 -m venv /opt/uv \
    && /opt/uv/bin/pip install --quiet --require-hashes --only-binary=:all: -r .ci/uv-requirements.txt \
    && /opt/uv/bin/uv build --wheel --out-dir /tmp/dist \
    && /opt/uv/bin/uv export --frozen --no-dev --no-emit-project --format requirements-txt -o /tmp/requirements.txt \
    && /opt/uv/bin/uv venv --python python3 /opt/buttons \
    && /opt/uv/bin/uv pip install --python /opt/buttons/bin/python --require-hashes --no-deps -r /tmp/requirements.txt \
    && /opt/uv/bin/uv pip install --python /opt/buttons/bin/python --no-deps /tmp/dist/*.whl \
    && /opt/buttons/bin/buttons version --json

# ---------------------------------------------------------------------------- runtime: no build tools, not root
FROM ${BASE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="buttons-engine" \
      org.opencontainers.image.description="Buttons for Python: typed, pressable scripts with run history" \
      org.opencontainers.image.licenses="MIT"
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# A fixed uid/gid so a mounted /data can be owned ahead of time (chown 10001:10001).
RUN groupadd --gid 10001 buttons \
    && useradd --no-log-init --uid 10001 --gid 10001 --home-dir /data --no-create-home --shell /usr/sbin/nologin buttons \
    && install -d -o 10001 -g 10001 -m 0700 /data
COPY --from=build /opt/buttons /opt/buttons
ENV PATH=/opt/buttons/bin:$PATH \
    BUTTONS_HOME=/data \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
# Until `buttons serve` exists: prove the CLI starts and can read its data dir.
HEALTHCHECK --interval=30s --timeout=10s --start-period=5s --retries=3 CMD ["buttons", "list", "--json"]
ENTRYPOINT ["buttons"]
CMD ["summary"]
