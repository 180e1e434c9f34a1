# Buttons for Python, as a container: docs/container.md explains the choices and `make image-test` checks them.
#
# Build:  docker build -t buttons-engine .
#         (behind a TLS-intercepting proxy: --secret id=ssl_ca,src=$SSL_CERT_FILE; the bundle is mounted for
#         the one RUN that downloads and never lands in a layer)
#         make image-test passes --build-arg VERSION/REVISION/CREATED/SOURCE for the OCI labels and
#         `buttons version --json`.
# Run:    docker run --rm --read-only --cap-drop ALL --security-opt no-new-privileges \
#           -v buttons-data:/data buttons-engine press NAME
#
# No `# syntax=` line on purpose: the builder's own Dockerfile frontend is used, so no frontend image is
# fetched from a registry at build time (nothing floats). RUN --mount=type=secret needs BuildKit or buildah.

# The build stage's base. The runtime stage is FROM scratch: only files copied out of this stage ship.
# `make image-test` builds a Debian bookworm base with debootstrap (no registry needed) and records its package
# list; with a registry, pin by digest: --build-arg BASE_IMAGE=python:3.11-slim-bookworm@sha256:...
ARG BASE_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------- build: wheel, locked deps, runtime root
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
# The PyPI `tzdata` (python-dateutil's fallback for systems without time zone files, 2.8 MB) is left out:
# the image has Debian's tzdata in /usr/share/zoneinfo, which zoneinfo and dateutil read first.
# One RUN does every download: uv (hash-checked), the wheel (uv's own build backend, no download),
# then the runtime dependencies exactly as locked, hash-checked, into /opt/buttons (bytecode compiled, so a
# read-only root never recompiles). The venv has no pip.
# The `fleet` extra (dramatiq, redis-py) is in: the same image runs `buttons worker` (docs/fleet.md).
# dramatiq is LGPL-3.0-or-later, allowed for that extra only; it ships unmodified, with its sources and
# licence texts, and scripts/image_sbom.py checks every Python package's licence against the policy.
# common-expression-language (drawer CEL) depends on the packages of its own command-line tool, which
# the engine never imports (services/drawer_cel.py loads the compiled core alone): about 11 MB left out.
# image-test presses a drawer with a CEL expression in the image to prove it.
ARG CEL_CLI_ONLY="--no-emit-package typer --no-emit-package annotated-doc --no-emit-package shellingham \
--no-emit-package rich --no-emit-package markdown-it-py --no-emit-package mdurl --no-emit-package pygments \
--no-emit-package prompt-toolkit --no-emit-package wcwidth"
RUN --mount=type=secret,id=ssl_ca,target=/run/secrets/ssl_ca \
    if grep -qs 'BEGIN CERTIFICATE' /run/secrets/ssl_ca; then export SSL_CERT_FILE=/run/secrets/ssl_ca PIP_CERT=/run/secrets/ssl_ca; fi \
    && python3 -m venv /opt/uv \
    && /opt/uv/bin/pip install --quiet --require-hashes --only-binary=:all: -r .ci/uv-requirements.txt \
    && /opt/uv/bin/uv build --wheel --out-dir /tmp/dist \
    && /opt/uv/bin/uv export --frozen --no-dev --extra fleet --no-emit-project --no-emit-package tzdata $CEL_CLI_ONLY --format requirements-txt \
         -o /tmp/requirements.txt \
    && /opt/uv/bin/uv venv --python python3 /opt/buttons \
    && /opt/uv/bin/uv pip install --python /opt/buttons/bin/python --compile-bytecode --require-hashes --no-deps -r /tmp/requirements.txt \
    && /opt/uv/bin/uv pip install --python /opt/buttons/bin/python --compile-bytecode --no-deps /tmp/dist/*.whl \
    && /opt/buttons/bin/buttons version --json
# Symbol tables of the compiled extensions in the venv (cryptography's alone is 2.9 MB) are not needed to run:
# binutils' strip drops them (binutils is installed in this build stage only; nothing of it ships).
# hadolint ignore=DL3008
RUN apt-get update -q \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends binutils \
    && find /opt/buttons -name '*.so' -type f -exec strip --strip-unneeded {} + \
    && rm -rf /opt/buttons/lib/python3*/site-packages/pydantic/v1 \
    && apt-get purge -y -q binutils && rm -rf /var/lib/apt/lists/*

# Optional extra Debian packages for the runtime, e.g. the Node variant: --build-arg EXTRA_DEBS=nodejs
# (`IMAGE_EXTRA_DEBS=nodejs make image-test`). Their exact versions are recorded with the rest (os-packages.txt).
ARG EXTRA_DEBS=""
# (DL3008: the versions are recorded after install rather than pinned here; SC2086: a list, split on purpose.)
# hadolint ignore=DL3008,SC2086
RUN if [ -n "$EXTRA_DEBS" ]; then \
      apt-get update -q \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $EXTRA_DEBS \
      && rm -rf /var/lib/apt/lists/*; \
    fi

# The runtime root: only the Debian packages running needs (scripts/image-rootfs prints them: the recorded
# snapshot), the venv, the build info `buttons version` reports, and the image's own CycloneDX SBOM.
ARG VERSION=""
ARG REVISION=""
ARG CREATED=""
COPY scripts/image-rootfs scripts/image_sbom.py /src/scripts/
RUN python3 -c 'import json, sys; print(json.dumps({"commit": sys.argv[1], "date": sys.argv[2]}))' "$REVISION" "$CREATED" \
      >/opt/buttons/buttons-build-info.json \
    && EXTRA_DEBS="$EXTRA_DEBS" bash scripts/image-rootfs /rootfs \
    && mkdir -p /rootfs/opt && cp -a /opt/buttons /rootfs/opt/buttons \
    && python3 scripts/image_sbom.py generate --root /rootfs --version "$VERSION" -o /rootfs/usr/share/buttons-engine/sbom.cdx.json \
    && python3 scripts/image_sbom.py check /rootfs/usr/share/buttons-engine/sbom.cdx.json --root /rootfs

# ---------------------------------------------------------------------------- runtime: no pip, apt, dpkg, setuid, root
FROM scratch AS runtime
ARG VERSION=""
ARG REVISION=""
ARG CREATED=""
ARG SOURCE=""
LABEL org.opencontainers.image.title="buttons-engine" \
      org.opencontainers.image.description="Buttons for Python: typed, pressable scripts with run history" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}"
COPY --from=build /rootfs/ /
ENV PATH=/opt/buttons/bin:/usr/local/bin:/usr/bin:/bin \
    BUTTONS_HOME=/data \
    LANG=C.UTF-8 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# A fixed uid/gid (in /etc/passwd as `buttons`) so a mounted /data can be owned ahead of time (chown 10001:10001).
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
# The image serves: `buttons serve` on all interfaces, which refuses to start without an API key
# (BUTTONS_API_KEY, or BUTTONS_API_KEY_FILE naming a mounted secret). CLI use stays one
# `podman run IMAGE press NAME` away (docs/container.md). The healthcheck asks GET /api/health.
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=10s --start-period=10s --retries=3 \
  CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/api/health', timeout=5)"]
ENTRYPOINT ["buttons"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
