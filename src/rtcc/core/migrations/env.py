"""Alembic environment: runs against the engine handed over by rtcc.core.migrate."""

from alembic import context
from sqlalchemy import text

from rtcc.core.models_registry import metadata

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    if connection.dialect.name == "postgresql":
        # Two processes starting at once must not both migrate: the first waits for the other.
        connection.execute(text("SELECT pg_advisory_lock(724001)"))
        connection.commit()
    try:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    finally:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_unlock(724001)"))
            connection.commit()
