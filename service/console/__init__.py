"""The operator console at /ui: server-rendered pages (aiohttp-jinja2) over the same store,
listing and replay code as the JSON API, behind the admin token."""
