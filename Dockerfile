FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    MASTHEAD_ENV=production

WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
COPY schema ./schema
RUN pip install --no-cache-dir . && useradd --system --uid 10001 masthead
USER masthead

EXPOSE 8000
# `serve` waits for the database, applies migrations, then starts the workers.
CMD ["masthead", "serve", "--workers", "2", "--wait", "60"]
