"""The catalog: what the archive holds, per capture, without opening a WARC (see :mod:`pipelines.catalog.store`).

``schema`` has every table, ``store`` the :class:`Catalog` connection and the database helpers, ``runs`` the
run history; ``migrations/`` the Alembic migrations that make and upgrade the schema.
"""

from pipelines.catalog.runs import RunHistory
from pipelines.catalog.store import MIGRATIONS, Catalog, catalog_path, catalog_url, engine_for, migrate

__all__ = ["MIGRATIONS", "Catalog", "RunHistory", "catalog_path", "catalog_url", "engine_for", "migrate"]
