"""Scrapy settings of the news archiving service.

Every value here can be overridden per crawl with ``-s NAME=VALUE`` and per
outlet with the outlet's ``custom_settings``.
"""

import os

from crawler import __version__

BOT_NAME = "newsarchive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
COMMANDS_MODULE = "crawler.commands"

# --- Who we are: an honest User-Agent with a way to reach the operator --------------------------
OPERATOR_CONTACT = os.environ.get("NEWSARCHIVE_CONTACT", "https://github.com/newsarchive/newsarchive#contact")
USER_AGENT = f"newsarchive/{__version__} (news archiving crawler; +{OPERATOR_CONTACT})"

# Ask for gzip/deflate only, as Heritrix does: warcio 1.8.1 cannot decode brotli payloads with the
# Brotli package Scrapy installs (warcio issue #73), so `warcio check` would crash on br records.
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en",
    "Accept-Encoding": "gzip, deflate",
}

# --- Politeness ---------------------------------------------------------------------------------
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# Scrapy starts this many asyncio tasks for the output of every response (its default, 100, cost a third of a
# local crawl's CPU: 100 tasks a page); an article response yields one item, a sitemap a few hundred requests.
CONCURRENT_ITEMS = 8
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
RETRY_BACKOFF_BASE = 2.0  # seconds, doubled per attempt, with jitter
RETRY_BACKOFF_MAX = 120.0  # also the longest Retry-After honoured
RETRY_GIVE_UP_LOG_LEVEL = "INFO"  # the spider logs each failed fetch once, as a warning
TELNETCONSOLE_ENABLED = False

# --- Discovery ----------------------------------------------------------------------------------
# Links dated (feed date, news:publication_date, lastmod) further back than this are skipped;
# 0 follows everything, e.g. for a first full crawl of an outlet's sitemaps.
DISCOVERY_MAX_AGE_DAYS = 3

# --- Page requisites (README "What is archived") ------------------------------------------------
# What a page needs to replay as its reader saw it (stylesheets and what they import, images, fonts, scripts,
# icons), fetched with it through the same crawl: "articles" (article pages), "all" (front pages too) or "none".
# An outlet may set its own in custom_settings. Requisites may live on other hosts (CDNs): allowed for them only,
# still through every safety guard and robots.txt.
ARCHIVE_REQUISITES = "articles"
REQUISITE_REFRESH = 86400  # seconds: a requisite archived this recently is not fetched again (INCREMENTAL)
REQUISITES_MAX_PER_PAGE = 100
REQUISITE_MAXSIZE = 10 * 1024 * 1024  # bytes, each
REQUISITES_PAGE_MAXSIZE = 30 * 1024 * 1024  # bytes, all of one page's
REQUISITE_DEPTH = 3  # page -> stylesheet -> imported stylesheet -> its fonts and images

# --- Incremental crawling ----------------------------------------------------------------------
# Scheduled runs fetch only what is new: article URLs already archived (by normalised key, kept in the
# catalog) are skipped, feeds and sitemaps are asked for with If-None-Match/If-Modified-Since. Archived
# articles are looked at again this long after their first capture; an unchanged one costs a revisit record.
INCREMENTAL = True
REVISIT_AFTER = "1h,6h,24h,3d"
REVISIT_MAX_PER_RUN = 500

# --- Archiving ----------------------------------------------------------------------------------
ARCHIVE_ROOT = os.environ.get("NEWSARCHIVE_ROOT", "archive")
WARC_ENABLED = True
WARC_MAX_SIZE = 1024**3
# zlib's level for each record, 1 (fastest) to 9 (smallest). On real article pages (bench/warc_gzip_levels.py)
# 5 took 0.69x the time of 6 (zlib's default; median of three runs) for 1.6% more bytes; 4 half for 5% more.
WARC_GZIP_LEVEL = 5
# Only tests, the demo and benchmarks set this: the local outlet web's proxy address.
LOCAL_WEB_PROXY = None
# Folders of <outlet>/ fixture folders (fixtures/README.md), relative to the project folder: where
# `scrapy capture` writes, what `scrapy checkoutlet` replays (their WARCs) and the local outlet web serves.
OUTLET_FIXTURES = ["fixtures"]

# Offline re-crawl: answer every request from these archive folders/WARCs (comma-separated) instead of
# the network, with the capture nearest to ARCHIVE_SOURCE_TIME (YYYYMMDDhhmmss; default: the latest).
ARCHIVE_SOURCE = None
ARCHIVE_SOURCE_TIME = None
ADDONS = {
    "crawler.archive_source.ArchiveSourceAddon": 0,
}

DOWNLOAD_HANDLERS = {
    "http": "crawler.download_handler.ArchivingHTTPDownloadHandler",
    "https": "crawler.download_handler.ArchivingHTTPDownloadHandler",
}
# Never fetch from loopback, private, link-local or metadata addresses, or other schemes (crawler.safety).
TWISTED_DNS_RESOLVER = "crawler.safety.PublicOnlyResolver"
DOWNLOADER_MIDDLEWARES = {
    "crawler.safety.SafeTargetsMiddleware": 40,
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "crawler.middlewares.offsite.StrictOffsiteMiddleware": 50,  # retries' redirects stay on the site too
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.robots.RobotsPolicyMiddleware": 100,  # unreachable robots.txt: host not crawled
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.retry.BackoffRetryMiddleware": 550,
    "crawler.requisites.RequisiteBudget": 600,  # a page's requisites within REQUISITES_PAGE_MAXSIZE
    "crawler.middlewares.local_web.LocalWebProxyMiddleware": 740,
    "crawler.frontier.politeness.SharedPolitenessMiddleware": 900,  # only with REDIS_URL
}
SPIDER_MIDDLEWARES = {
    "crawler.requisites.PageRequisites": 800,  # archived pages' stylesheets, images, fonts, scripts
}
ITEM_PIPELINES = {
    "crawler.item_pipeline.ArticleExtractionPipeline": 300,
}
# The catalog of captures (default: <ARCHIVE_ROOT>/catalog.sqlite), or a database every worker shares:
# DATABASE_URL=postgresql+psycopg://user:password@host:5432/newsarchive (SQLAlchemy URL; schema by Alembic).
CATALOG_PATH = None
DATABASE_URL = os.environ.get("DATABASE_URL") or None
EXTENSIONS = {
    # in this order: recovery closes what a killed crawl left open, catch-up records what it did not get to
    "crawler.warc.recovery.WarcRecovery": 90,
    "crawler.extensions.catch_up.CatchUp": 95,
    "crawler.warc.archiver.WarcArchiver": 100,  # every fetch into WARC records
    "crawler.extensions.seen_state.SeenStateRecorder": 110,  # archived articles into the seen-state
    "crawler.warc.index.WarcIndexer": 120,  # a CDXJ index for each WARC that closes
    "crawler.extensions.run_summary.RunSummary": 200,
    "crawler.extensions.extraction_health.ExtractionHealth": 300,
}
# Extraction health: each crawl's share of article pages with a title, byline, time, a body of at least
# HEALTH_BODY_MIN_WORDS words, and the mean confidence, against the median of the outlet's last
# HEALTH_BASELINE_RUNS runs (once HEALTH_MIN_RUNS runs of HEALTH_MIN_PAGES pages exist): a share more than
# HEALTH_MAX_DROP below it flags the outlet (a warning, and `scrapy schedule --list`).
HEALTH_ENABLED = True
HEALTH_BODY_MIN_WORDS = 80
HEALTH_BASELINE_RUNS = 10
HEALTH_MIN_RUNS = 3
HEALTH_MIN_PAGES = 3
HEALTH_MAX_DROP = 0.25
# Set by `scrapy crawlall` and the scheduling service for each crawl: where it leaves its final stats.
RUN_SUMMARY_FILE = None

# --- Scaling out: the shared frontier (scrapy worker / scrapy enqueue; README "Scaling out") --------
# Redis of the shared request queue; when set, the scheduling service puts each outlet's rounds there for
# `scrapy worker` processes (any number, any machine) instead of crawling them itself.
REDIS_URL = os.environ.get("NEWSARCHIVE_REDIS_URL") or None
FRONTIER_HOST_DELAY = DOWNLOAD_DELAY  # seconds between request starts to one host, across all workers
FRONTIER_HOST_CONCURRENCY = CONCURRENT_REQUESTS_PER_DOMAIN  # requests in flight to one host, across all workers
FRONTIER_POLL = 0.5  # seconds: how soon an idle worker notices new requests
FRONTIER_CLAIM_TTL = 7200  # seconds a worker's claim on an article in a round lasts (crawler.frontier.claims)

# --- The scheduling service (scrapy schedule / make run) ----------------------------------------
SCHEDULE_DB_URL = None  # the job store; default sqlite:///<ARCHIVE_ROOT>/schedule.sqlite
SCHEDULE_JITTER = 60  # seconds added at random to every run time
SCHEDULE_OVERRIDE = None  # one schedule for every outlet ("every 2s"), or JSON {"outlet": "schedule"}
SCHEDULE_OUTLETS = None  # comma-separated: schedule only these outlets (default: all)
# At start, every active outlet the archive has never crawled (no run in the history, no WARC in
# <ARCHIVE_ROOT>/<outlet>/warc/) is crawled at once (trigger "first-run"), one after another, spread over
# SCHEDULE_JITTER seconds but at least 1 s apart, instead of waiting for its next tick; its schedule is
# unchanged. False: a fresh service waits for each outlet's first tick.
SCHEDULE_FIRST_RUN_AT_ONCE = True
SCHEDULE_POLL = 5  # seconds between re-reads of the job store (pause/resume/run-now from outside)
SCHEDULE_HEALTH_MAX_AGE = 60  # seconds: an older heartbeat is unhealthy
CRAWL_TIMEOUT = 1800  # wall-clock limit of one crawl, seconds
CRAWL_KILL_GRACE = 60  # seconds between SIGTERM and SIGKILL
LOG_KEEP = 50  # crawl logs kept per outlet
SERVICE_LOG_MAX_BYTES = 10 * 1024 * 1024  # service.log rotates at this size...
SERVICE_LOG_BACKUPS = 5  # ...keeping this many old files
# Daily WACZ packages (README "Sharing the archive"): the service packages each outlet's previous UTC day as
# <ARCHIVE_ROOT>/<outlet>/wacz/<outlet>-<YYYY-MM-DD>.wacz at WACZ_DAILY_AT (UTC), and at start when it missed that.
WACZ_DAILY = False
WACZ_DAILY_AT = "00:30"
WACZ_DAILY_TIMEOUT = 3600  # seconds one outlet's package may take

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = os.environ.get("NEWSARCHIVE_LOG_LEVEL", "INFO")

# --- The reading room (scrapy serve): a read-only web application over the archive (README "Reading room") --
READER_HOST = "127.0.0.1"  # any other address needs READER_TOKEN, which every request must then carry
READER_PORT = 8000
READER_TOKEN = os.environ.get("NEWSARCHIVE_READER_TOKEN") or None
READER_PYWB_URL = os.environ.get("NEWSARCHIVE_PYWB_URL", "http://127.0.0.1:8080")  # where article pages link captures
