"""The web dashboard: server-rendered pages with Plotly charts, built from the same functions
as the JSON API (analyses, catalog metrics), with per-chart CSV exports and local assets."""
