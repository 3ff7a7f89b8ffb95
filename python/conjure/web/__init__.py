"""Static web assets: the embed SDK (static/embed.js, built from embed/) and the demo play page."""
