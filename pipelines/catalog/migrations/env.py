"""Alembic environment of the catalog: run by :func:`pipelines.catalog.store.migrate` on the catalog's connection."""

from alembic import context

from pipelines.catalog.schema import metadata

connection = context.config.attributes["connection"]
# batch mode: SQLite alters tables by copying them
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
