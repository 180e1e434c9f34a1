# Build and release security tasks. Everything else: scripts/check (lint, types, gates, tests).
# docs/release.md, docs/container.md and docs/security-gates.md describe these targets.
.PHONY: help gates sbom release release-demo verify-release release-key image image-test secrets-baseline

PY := .venv/bin/python
RELEASE_PUBKEY ?= keys/release.pub
# scripts/bootstrap installs uv into .tools/uv-venv when the pinned one is not on PATH: every target sees it.
export PATH := $(CURDIR)/.tools/uv-venv/bin:$(PATH)
export UV_PYTHON_DOWNLOADS := never
# Targets that need the dev tools (cyclonedx-py, cryptography, ...) sync the dev group first: after
# `bash scripts/demo` only the runtime is installed. A no-op when .venv is already complete.
DEV := bash scripts/bootstrap

help:
	@echo "make gates            offline security gates (also run by scripts/check)"
	@echo "make sbom             CycloneDX SBOM of the locked runtime deps -> dist/buttons_engine-VERSION.cdx.json"
	@echo "make release          wheel, sdist, SBOM, SHA256SUMS and signatures in dist/ (needs the release key)"
	@echo "make verify-release   verify dist/ against $(RELEASE_PUBKEY)"
	@echo "make release-demo     the release flow end to end with a throwaway key (outside the repository)"
	@echo "make release-key      make a new release key pair (secret key outside the repository)"
	@echo "make image-test       build the container image (buildah) and check it (podman); root, not in .ci/run"
	@echo "make secrets-baseline rewrite .secrets.baseline (review the diff before committing)"

gates:
	bash scripts/security-gates

sbom:
	$(DEV)
	$(PY) scripts/sbom.py generate
	$(PY) scripts/sbom.py check dist/$$($(PY) -c 'import tomllib; print("buttons_engine-" + tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])').cdx.json

release:
	bash scripts/release

verify-release:
	$(DEV)
	$(PY) scripts/release_signing.py verify --dir dist --public $(RELEASE_PUBKEY)

# A throwaway key in a temporary directory: shows build -> sign -> verify without the real key.
release-demo:
	$(DEV)
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(PY) scripts/release_signing.py keygen --secret "$$tmp/demo.key" --public "$$tmp/demo.pub"; \
	BUTTONS_RELEASE_KEY_FILE="$$tmp/demo.key" bash scripts/release; \
	$(PY) scripts/release_signing.py verify --dir dist --public "$$tmp/demo.pub"; \
	echo "release-demo: dist/ is signed by a throwaway key; make verify-release (real key) will reject it"

RELEASE_KEY_FILE ?= $(HOME)/.config/buttons-release/release.key
release-key:
	$(DEV)
	$(PY) scripts/release_signing.py keygen --secret $(RELEASE_KEY_FILE) --public $(RELEASE_PUBKEY)

image image-test:
	bash scripts/image-test

secrets-baseline:
	$(DEV)
	$(PY) scripts/secret_scan.py --update
