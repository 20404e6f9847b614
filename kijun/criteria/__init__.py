"""kijun.criteria: the engine. Pure Python: no database and no web imports."""
