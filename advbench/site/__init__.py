"""The static results site (``advbench site``): Jinja2 templates and a small sorter script, built by ``build``."""
