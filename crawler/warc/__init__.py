"""WARC files: the writer (files, locks, rotation), the archiver extension (the records of each fetch),
recovery of files a killed writer left open, and their CDXJ indexes."""
