"""kijun.web: the staff web app (FastAPI, Jinja2, Japanese UI).

Thin: pages call `kijun.criteria` to decide and `kijun.store` to read and
record. Every asset is served from `kijun/web/static/`; nothing is loaded from
outside, so the app works on LGWAN without internet.
"""

from kijun.web.app import create_app

__all__ = ["create_app"]
