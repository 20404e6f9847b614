"""DMN 1.1–1.5 models: XML import, evaluation, and the DMN TCK runner.

    models = DmnModels([read_dmn("loan.dmn")])
    models.evaluate("Approval Status", {"Age": 30, "RiskCategory": "Low"})
    run_tck("../shared/dmn-tck/compliance-level-2").summary()
"""

from kijun.criteria.dmn.evaluate import DmnFunction, DmnModels, Session
from kijun.criteria.dmn.model import Definitions, DmnError
from kijun.criteria.dmn.tck import TckReport, run_tck
from kijun.criteria.dmn.xml import parse_dmn, read_dmn

__all__ = [
    "Definitions",
    "DmnError",
    "DmnFunction",
    "DmnModels",
    "Session",
    "TckReport",
    "parse_dmn",
    "read_dmn",
    "run_tck",
]
