"""HTTP routes: the dashboard page, its event stream, and the JSON API."""
