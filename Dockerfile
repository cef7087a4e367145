# The production image: gunicorn for web, the same image runs the Celery worker and beat
# (docker-compose.yml). Configuration comes from the environment at run time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    VAR_DIR=/app/var

WORKDIR /app
RUN groupadd --system app \
    && useradd --system --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

# Dependencies first, so that a code change does not reinstall them. The project runs from /app
# and pyproject.toml installs no modules of its own, so it is all that pip needs here.
COPY pyproject.toml ./
RUN pip install . && rm -rf build ./*.egg-info

COPY . .
# whitenoise serves the collected files. The settings need a secret and hosts to load; these
# build-time values are never used at run time.
RUN DJANGO_SECRET_KEY=collectstatic-only-not-a-secret DJANGO_ALLOWED_HOSTS=localhost \
        python manage.py collectstatic --noinput \
    && mkdir -p /app/var \
    && chown app:app /app/var

USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "-w", "3", "-b", "0.0.0.0:8000", "--access-logfile", "-"]
