"""Persistence for boards behind one small interface, so another backend can slot in."""

from issuebridge.store.base import BoardStore, StoreError
from issuebridge.store.sqlite import SQLiteBoardStore

__all__ = ["BoardStore", "SQLiteBoardStore", "StoreError"]
