"""Persistence for the dashboard behind one small interface, so another backend can slot in."""

from issuebridge.store.base import DashboardStore, StoreError
from issuebridge.store.sqlite import SQLiteStore

__all__ = ["DashboardStore", "SQLiteStore", "StoreError"]
