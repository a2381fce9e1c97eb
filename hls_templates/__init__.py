"""The HLS kernel headers and jinja2 templates (package data, read by hlsgen.emit)."""
