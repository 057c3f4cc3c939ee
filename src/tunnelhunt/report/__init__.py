"""HTML rendering of what actions gather: the self-contained report (`report.html`) and the charts the
web pages share. Jinja2 with autoescaping on (field values come from attackers), plotly for charts."""
