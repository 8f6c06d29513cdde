# syntax=docker/dockerfile:1
# meshbot: Slack chat-ops bot for Istio sidecar/ambient. Two stages: the builder makes a virtualenv
# from the project; the runtime image gets only that virtualenv (no compiler, no pip cache, no source).
#
#   docker build -t REGISTRY/meshbot:0.1.0 .
#   docker run --rm -e SLACK_BOT_TOKEN -e SLACK_APP_TOKEN -v meshbot-data:/data REGISTRY/meshbot:0.1.0
#   docker run --rm REGISTRY/meshbot:0.1.0 demo          # the tour on the bundled demo cluster

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder
# Optional extras baked into the image; "postgres" brings the driver that several replicas need.
ARG MESHBOT_EXTRAS=postgres
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# Build tools live in this stage only, for any dependency without a wheel for this platform. Not pinned:
# Debian's mirror drops old versions; rebuilding on a fresh base image is how this stage gets fixes.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first, from pyproject.toml alone, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c 'import os, tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
extras = [e for e in os.environ["MESHBOT_EXTRAS"].split(",") if e]; \
print("\n".join(p["dependencies"] + [d for e in extras for d in p["optional-dependencies"][e]]))' \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt
# Then the project: a non-editable install builds the wheel and compiles the bytecode now, since the
# runtime filesystem is read-only (pip builds it with the setuptools that pyproject.toml asks for).
COPY . .
RUN pip install --no-deps . \
    && pip check \
    && meshbot --help > /dev/null

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="meshbot" \
      org.opencontainers.image.description="Slack chat-ops bot for choosing, adopting and migrating between Istio sidecar and ambient modes" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    MESHBOT_LOG_FORMAT=json \
    MESHBOT_PORT=8080 \
    MESHBOT_DATABASE_URL=sqlite:////data/meshbot.sqlite
# uid/gid 10001: not root, and no clash with a host user; /data holds the SQLite file (a volume).
RUN groupadd --system --gid 10001 meshbot \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin meshbot \
    && mkdir -p /data \
    && chown 10001:10001 /data
COPY --from=builder /opt/venv /opt/venv
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['MESHBOT_PORT'] + '/healthz', timeout=4)"]
ENTRYPOINT ["meshbot"]
CMD ["serve", "--mode", "socket"]
