# Image for deploy/docker-compose.yml: the app with its pinned dependencies.
FROM python:3.11-slim
WORKDIR /srv/labtrack/app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
ENV PYTHONUNBUFFERED=1
RUN DEBUG=1 python manage.py collectstatic --noinput
EXPOSE 8001
