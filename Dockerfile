# One image for the api, ui and worker services of docker-compose.yml.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PARTLENS_DATA_DIR=/data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY partlens ./partlens
COPY worker ./worker
COPY backend ./backend
COPY frontend ./frontend
RUN pip install --no-cache-dir .
VOLUME ["/data"]
EXPOSE 8000 8050
CMD ["partlens", "api"]
