"""Persistence for the dashboard behind one small interface: SQLite for one process, Redis for many."""

from issuebridge.settings import Settings
from issuebridge.store.base import DashboardStore, MaybeSaved, NotSaved, StoreError
from issuebridge.store.redis import RedisStore
from issuebridge.store.sqlite import SQLiteStore

__all__ = ["DashboardStore", "MaybeSaved", "NotSaved", "RedisStore", "SQLiteStore", "StoreError", "store_for"]


def store_for(settings: Settings) -> DashboardStore:
    """Redis when ``ISSUEBRIDGE_REDIS_URL`` is set (several workers share it), else the SQLite file."""
    if settings.redis_url:
        return RedisStore(settings.redis_url, log_length=settings.event_history)
    return SQLiteStore(settings.db_path)
