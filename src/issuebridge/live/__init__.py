"""Changes to pages: the announcer encodes each store change once per wire format, the hub fans the
bytes out to every open stream, and the stream endpoint delivers them (``stream.py``)."""
