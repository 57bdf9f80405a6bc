# actionruns for operators (docs/deployment.md). `actionruns` is the entry point and the
# command names the process: `serve` (the default: API and workers on SQLite in the home),
# `serve --no-workers`, `worker`, `db upgrade`, `clients create …`.
#
#   docker build -t actionruns:latest .            (or podman build --format docker)
#   docker run -p 8080:8080 -v actionruns:/var/lib/actionruns actionruns:latest
#
# BASE is any Debian-based image with python3 (3.11 or newer) and its venv module; the
# official slim image by default. scripts/container builds on a local Debian image where
# that one cannot be pulled. EXTRAS picks the drivers (README: Install); `all` has them all.
ARG BASE=docker.io/library/python:3.12-slim-bookworm

FROM ${BASE} AS build
ARG EXTRAS=all
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore
RUN python3 -m venv /opt/actionruns
WORKDIR /src
# Behind a TLS-inspecting proxy, give pip its CA as a build secret (never in a layer):
#   --secret id=pip_cert,src=/etc/ssl/certs/ca-certificates.crt
# The dependencies in a layer of their own, installed from pyproject.toml alone (with an
# empty package standing in for the code), so a change to the code reuses them.
COPY pyproject.toml README.md LICENSE ./
RUN --mount=type=cache,target=/root/.cache/pip --mount=type=secret,id=pip_cert \
    { [ ! -f /run/secrets/pip_cert ] || export PIP_CERT=/run/secrets/pip_cert; } \
    && mkdir -p src/actionruns && touch src/actionruns/__init__.py \
    && /opt/actionruns/bin/pip install ".[${EXTRAS}]" \
    && /opt/actionruns/bin/pip uninstall -y actionruns \
    && rm -rf build src  # else setuptools keeps the empty stand-in (its copy is newer)
COPY src ./src
RUN --mount=type=cache,target=/root/.cache/pip --mount=type=secret,id=pip_cert \
    { [ ! -f /run/secrets/pip_cert ] || export PIP_CERT=/run/secrets/pip_cert; } \
    && /opt/actionruns/bin/pip install --no-deps . \
    && /opt/actionruns/bin/actionruns --help >/dev/null

FROM ${BASE}
# A fixed, unprivileged uid/gid: volumes can be owned by it and runAsNonRoot can check it.
RUN groupadd --gid 10001 actionruns \
    && useradd --uid 10001 --gid 10001 --no-log-init --home-dir /var/lib/actionruns \
       --no-create-home --shell /usr/sbin/nologin actionruns \
    && install -d -o 10001 -g 10001 -m 0700 /var/lib/actionruns
COPY --from=build /opt/actionruns /opt/actionruns
# HOST: a container is reached through its own interface, never its loopback.
# HOME: the one-machine shape keeps its SQLite database and key file here (mount a volume);
# scaled out (ACTIONRUNS_DATABASE_URL and ACTIONRUNS_SECRET_KEYS set) nothing is kept in it.
ENV PATH=/opt/actionruns/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    ACTIONRUNS_HOME=/var/lib/actionruns \
    ACTIONRUNS_HOST=0.0.0.0
USER 10001:10001
WORKDIR /var/lib/actionruns
EXPOSE 8080
# Ready, not merely alive: 503 while the database is away. Python, because the slim image
# has no curl. A worker serves no HTTP: give it no health check (docs/deployment.md).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python3 -c 'import os, urllib.request as r; r.urlopen("http://127.0.0.1:%s/readyz" % os.environ.get("ACTIONRUNS_PORT", "8080"), timeout=4)'
ENTRYPOINT ["actionruns"]
CMD ["serve"]
