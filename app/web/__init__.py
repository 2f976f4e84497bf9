"""HTML pages (Jinja2 + htmx): routes by area, the templates, and how their forms answer (forms.py)."""
