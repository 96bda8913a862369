# One image for the services of docker-compose.yml: the scheduler (`scrapy schedule`), the crawl workers, the
# reading room (`scrapy serve`) and pywb.
FROM python:3.11-slim
WORKDIR /app
# pywb pins old dependencies (redis 2.10, ...): it gets a virtual environment of its own, as `make pywb` does.
RUN python -m venv /app/.venv-pywb \
    && /app/.venv-pywb/bin/pip install --no-cache-dir pywb==2.10.0
COPY pyproject.toml README.md settings.py scrapy.cfg ./
COPY crawler ./crawler
COPY pipelines ./pipelines
COPY reader ./reader
# each outlet's fixtures: `scrapy checkoutlet OUTLET` replays their WARCs (no tests/ in the image)
COPY fixtures ./fixtures
RUN pip install --no-cache-dir .
ENV NEWSARCHIVE_ROOT=/archive
VOLUME /archive
# SIGTERM (docker stop): no new runs, running crawls close their WARC files, exit 0.
STOPSIGNAL SIGTERM
CMD ["scrapy", "schedule"]
