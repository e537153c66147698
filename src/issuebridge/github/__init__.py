"""The GitHub source: the client, paging, conditional requests, errors, and GitHub JSON as records."""
