# syntax=docker/dockerfile:1
# One image for every routefarm process. The default command is the API (Procfile `web`);
# a Deployment picks another process by its command (deploy/keda/*.yaml):
#   docker run IMAGE                                   # web: gunicorn on port 8000
#   docker run IMAGE python -m workers.run workers.main:setup --processes 1 --threads 1 --queues solve
#   docker run IMAGE python -m workers.run workers.main:setup --processes 1 --threads 8 --queues webhooks
#   docker run IMAGE python -m workers.stream
#   docker run IMAGE routefarm db migrate
# (the Procfile's dramatiq_* variables go in with -e, as the manifests set them in env).

ARG PYTHON=3.11-slim-bookworm

# Builder: the locked dependencies (requirements.lock: exact versions and their hashes, made
# with `uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes -o
# requirements.lock`) installed into a virtualenv, then routefarm itself without resolving
# anything again. Neither the [local] extra (routefarm up's embedded services) nor [dev] goes in.
FROM python:${PYTHON} AS builder
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/routefarm
ENV PATH=/opt/routefarm/bin:$PATH PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY optimizer ./optimizer
COPY routefarm ./routefarm
COPY api ./api
COPY workers ./workers
RUN pip install --no-cache-dir --no-deps . && pip check

# Runtime: the virtualenv alone, no compiler, no source tree, a user without a shell.
FROM python:${PYTHON} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/routefarm/bin:$PATH \
    PORT=8000
RUN groupadd --gid 10001 routefarm \
    && useradd --uid 10001 --gid 10001 --home-dir /home/routefarm --create-home \
       --shell /usr/sbin/nologin routefarm
COPY --from=builder /opt/routefarm /opt/routefarm
USER 10001:10001
WORKDIR /home/routefarm
EXPOSE 8000 9100
CMD ["gunicorn", "--config", "python:api.gunicorn_conf", "api.wsgi:app"]
