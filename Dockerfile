# Digit Lab in one container, as scripts/run_app.sh runs it under supervisord: a private
# Redis, the training workers and Streamlit, each restarted on its own when it dies, with
# the data and the shipped models inside the image.
#   docker build -t digit-lab . && docker run -p 8501:8501 digit-lab
# compose.yaml runs the same image as separate app replicas and workers around one Redis.
# (Not built on the development machine: it has no container engine.)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    PIP_NO_CACHE_DIR=1 \
    DIGITLAB_SKIP_SETUP=1 \
    DIGITLAB_RUNS=/app/runs \
    STREAMLIT_SERVER_ADDRESS=0.0.0.0

RUN apt-get update && apt-get install -y --no-install-recommends redis-server dataset-fashion-mnist \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN python -m venv .venv && .venv/bin/pip install --disable-pip-version-check -r requirements.txt

RUN useradd --create-home --uid 1000 lab
# Owned by root: the shipped models are read-only for the app; runs go to /app/runs.
COPY .streamlit .streamlit
COPY app.py server.py ./
COPY core core
COPY pages pages
COPY scripts scripts
COPY data data
COPY models_cache models_cache
COPY benchmarks benchmarks
RUN mkdir -p /app/runs /app/var && chown lab:lab /app/runs /app/var
# The runs store, and the queue's data with running jobs' checkpoints, kept apart.
VOLUME /app/runs /app/var
USER lab

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() != b'ok')"
CMD ["bash", "scripts/run_app.sh"]
