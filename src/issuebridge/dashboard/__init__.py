"""What can be done to the dashboard: the services that MCP tools, HTTP routes, webhooks and the
background refresh share. ``entries.Dashboard`` is the one write path; the rest build on it."""
