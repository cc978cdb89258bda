# One image, two roles:
#   docker run IMAGE                 -> `expbridge serve`  (HTTP ingress on :8080)
#   docker run IMAGE worker          -> `expbridge worker` (arq worker, metrics on :9091)
# Build: docker build -t expbridge:0.1.0 .
ARG PYTHON_VERSION=3.11.11

# --- builder: resolve and install everything into a self-contained venv -----------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
RUN python -m venv /opt/venv

# Runtime dependencies first (from pyproject, no dev extras; with the `otlp` extra, so
# tracing works when OTEL_EXPORTER_OTLP_ENDPOINT is set) so this layer stays cached while
# only our code changes.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; print('\n'.join(p['dependencies'] + p['optional-dependencies']['otlp']))" \
        > /tmp/requirements.txt \
    && /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

COPY . .
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps . \
    && /opt/venv/bin/expbridge --help > /dev/null

# --- final: slim runtime, no compilers, no build tools, non-root -------------------------
FROM python:${PYTHON_VERSION}-slim-bookworm

ARG UID=10001
ARG GID=10001

LABEL org.opencontainers.image.title="expbridge" \
      org.opencontainers.image.description="Async event bridge for experiment lifecycles (ingress + arq workers)" \
      org.opencontainers.image.licenses="Apache-2.0"

RUN groupadd --system --gid "${GID}" expbridge \
    && useradd --system --no-log-init --uid "${UID}" --gid "${GID}" \
        --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin expbridge

COPY --from=builder /opt/venv /opt/venv

# Read-only root filesystem: bytecode was compiled at install time, and anything the
# process writes (embedded Redis data for `expbridge run`, temp files) goes under /tmp.
ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    EXPBRIDGE_HOST=0.0.0.0 \
    EXPBRIDGE_PORT=8080 \
    EXPBRIDGE_LOG_FORMAT=json \
    EXPBRIDGE_DATA_DIR=/tmp/expbridge

WORKDIR /tmp
USER ${UID}:${GID}

EXPOSE 8080 9091

# For the default role (serve). A worker container should override it with
# `expbridge worker --check` (Kubernetes ignores HEALTHCHECK; the chart sets probes per role).
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('EXPBRIDGE_PORT', '8080') + '/healthz', timeout=4)"]

ENTRYPOINT ["expbridge"]
CMD ["serve"]
