"""An example newsroom site over the Masthead API: Starlette, Jinja2 and one small script.

Run it with `make frontend` (the API and the site together), or alone against a
running API with `python -m examples.newsroom` (see `--help`).
"""
