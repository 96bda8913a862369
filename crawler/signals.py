"""The project's own Scrapy signals, which keep the archiving components apart (one concern per module).

- ``capture_archived(capture, outlet, request)``: the WARC archiver wrote a fetch (the seen-state records it);
- ``warc_closing(path)``: a WARC file is about to be closed and renamed (the seen-state commits first, so a
  capture in a closed WARC is always in the seen-state);
- ``warc_closed(path)``: a WARC file was closed under its final name, by its writer or by recovery (the indexer
  writes its CDXJ index);
- ``warc_recovered(path, outlet)``: recovery closed a file a killed crawl left open (catch-up marks its
  articles as fetched).
"""

capture_archived = object()
warc_closing = object()
warc_closed = object()
warc_recovered = object()
