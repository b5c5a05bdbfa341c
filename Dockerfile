# Digit Lab: the app with its data and trained models inside the image, no training at start.
#   docker build -t digit-lab . && docker run -p 8501:8501 digit-lab
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY requirements.txt .
RUN pip install --disable-pip-version-check -r requirements.txt

RUN useradd --create-home --uid 1000 lab
COPY --chown=lab:lab .streamlit .streamlit
COPY --chown=lab:lab app.py ./
COPY --chown=lab:lab core core
COPY --chown=lab:lab pages pages
COPY --chown=lab:lab data data
# Writable by the app's user: the Train page adds entries here.
COPY --chown=lab:lab models_cache models_cache
COPY --chown=lab:lab benchmarks benchmarks
USER lab

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() != b'ok')"
CMD ["streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0"]
