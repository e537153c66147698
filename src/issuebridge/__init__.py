"""issuebridge: an MCP server that lets an AI assistant push curated GitHub data to a live dashboard."""

__version__ = "0.1.0"
