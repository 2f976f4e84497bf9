"""HTML pages (Jinja2 + htmx), the templating setup and the one error handler."""
