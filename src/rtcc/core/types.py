"""Column types shared by every domain."""

from sqlalchemy import JSON
from sqlalchemy.dialects.postgresql import JSONB

# JSON documents: JSONB on PostgreSQL (indexable), JSON text on SQLite.
JSONDocument = JSON().with_variant(JSONB(), "postgresql")
