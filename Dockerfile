FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY gateway gateway
COPY processors processors
COPY schemas schemas
RUN pip install --no-cache-dir '.[lake-s3,lake-postgres]'
USER nobody
EXPOSE 8000
CMD ["kafkagate", "serve"]
