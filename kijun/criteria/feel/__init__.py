"""FEEL (DMN 1.5 chapter 10), growing towards the full language.

So far: unary tests (decision-table input entries) and the expressions they
need — literals, names, arithmetic, comparison, three-valued `and`/`or`,
lists, ranges and `date(...)`. The lexer and parser are hand-written (see
`parser`) so that full FEEL can grow on them.

    test = compile_unary_tests("[18..65)", ValueType.NUMBER)
    test.matches(30)     # True
    test.region          # the exact values it accepts, for indexing and verification
"""

from kijun.criteria.feel import ast
from kijun.criteria.feel.ast import UnaryTests
from kijun.criteria.feel.parser import parse_expression, parse_unary_tests
from kijun.criteria.feel.unary import Matcher, UnaryTest, compile_unary_tests

__all__ = [
    "Matcher",
    "UnaryTest",
    "UnaryTests",
    "ast",
    "compile_unary_tests",
    "parse_expression",
    "parse_unary_tests",
]
