"""FEEL (DMN 1.5 chapter 10): expressions and unary tests, compiled to closures.

The lexer and parser are hand-written (see `parser`); a tree is compiled
once into Python closures (see `evaluate`), so evaluation never parses or
walks a tree.

    expr = compile_expression("if Applicant age >= 18 then \"adult\" else \"minor\"",
                              names=["Applicant age"])
    expr.evaluate({"Applicant age": 30})   # "adult"

    test = compile_unary_tests("[18..65)", ValueType.NUMBER)
    test.matches(30)     # True
    test.region          # the exact values it accepts, for indexing and verification
"""

from kijun.criteria.feel import ast
from kijun.criteria.feel.ast import UnaryTests
from kijun.criteria.feel.evaluate import Expression, UserFunction, compile_expression
from kijun.criteria.feel.parser import parse_expression, parse_unary_tests
from kijun.criteria.feel.unary import Matcher, UnaryTest, compile_unary_tests

__all__ = [
    "Expression",
    "Matcher",
    "UnaryTest",
    "UnaryTests",
    "UserFunction",
    "ast",
    "compile_expression",
    "compile_unary_tests",
    "parse_expression",
    "parse_unary_tests",
]
