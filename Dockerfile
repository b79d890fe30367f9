# The app in a container: `docker compose up` (see docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY backend ./backend
COPY frontend ./frontend
RUN pip install --no-cache-dir ".[redis]"
EXPOSE 8000
USER nobody
CMD ["backprop-playground", "--host", "0.0.0.0", "--port", "8000"]
