"""The outlet registry: one module per outlet, named after the outlet (``scrapy list`` shows them)."""
