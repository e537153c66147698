"""The dashboard's records: the rules every value passes, and one module per kind of entry.

``base`` holds the value types and what every entry has; ``tracked`` what boards of webhook-fed
items add; ``issues``, ``pulls``, ``commits`` and ``panels`` one kind each; ``registry`` the list
of kinds that every per-kind decision elsewhere reads (``kind.Kind`` says what a kind decides).
"""
