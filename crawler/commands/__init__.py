"""Project commands for the ``scrapy`` command line (``COMMANDS_MODULE``)."""
