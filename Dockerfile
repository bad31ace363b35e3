# One image for every service: `dvc-pulse serve <service>` picks which one runs.
FROM python:3.11-slim AS build
WORKDIR /app
ENV UV_PROJECT_ENVIRONMENT=/opt/venv UV_COMPILE_BYTECODE=1
RUN pip install --no-cache-dir uv==0.13.8
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project
COPY services ./services
RUN uv sync --locked --no-dev

FROM python:3.11-slim
RUN useradd --system --uid 10001 dvc && mkdir -p /var/lib/dvc && chown dvc /var/lib/dvc
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app/services /app/services
WORKDIR /app
ENV PATH=/opt/venv/bin:$PATH DVC_VAR_DIR=/var/lib/dvc PYTHONUNBUFFERED=1
# glibc malloc as `dvc-pulse up` sets it (services/ops/launcher.py MALLOC_DEFAULTS, docs/performance.md "Memory")
ENV MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072
USER dvc
ENTRYPOINT ["dvc-pulse"]
