"""kijun (基準): decision criteria as data, versioned by 施行日, every decision explained."""

__version__ = "0.1.0"
