# One image for the app and the worker.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIPEWORKS_DATA_DIR=/var/lib/pipeworks
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --create-home pipeworks && mkdir -p /var/lib/pipeworks && chown pipeworks /var/lib/pipeworks
USER pipeworks
EXPOSE 8501
CMD ["streamlit", "run", "streamlit_app.py", "--server.address=0.0.0.0", "--server.port=8501"]
