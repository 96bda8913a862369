FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md settings.py scrapy.cfg ./
COPY crawler ./crawler
COPY pipelines ./pipelines
RUN pip install --no-cache-dir .
ENV NEWSARCHIVE_ROOT=/archive
VOLUME /archive
CMD ["scrapy", "crawlall"]
