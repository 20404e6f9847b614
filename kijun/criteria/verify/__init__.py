"""Verify decision tables: gaps, overlaps, masked rules and other defects, with exact regions.

    from kijun.criteria.verify import verify_table, verify_version
    report = verify_version(criterion.version(1))
    for f in report.findings:
        print(f.severity, f.kind, f.rules, f.region, f.message_ja)

Nothing is sampled or guessed: every cell with an exact region (see
`kijun.criteria.region`) takes part in an exact analysis, and a rule with a
cell that has none — a general FEEL expression such as `? > 所得上限 * 2` —
is left out of the gap and overlap analysis and listed in
`Report.not_analysed` (and a `not_analysed` finding says so).

The domain
    Every input is required: **null is not part of the domain.** A gap is a
    combination of non-null values no rule accepts; a rule that accepts only
    null in some input (`null`) takes no part in gaps and overlaps. An input
    with allowed values ranges over them only (facts outside them are refused
    before any rule is tried); booleans over true and false; numbers over
    every number (integers and decimals: `<= 2` and `>= 3` leave the gap
    (2..3)); dates over whole days (`<= 2024-03-31` and `>= 2024-04-01`
    leave none); strings without allowed values over every string. In
    `verify_version`, an input fed by another decision ranges over the values
    that decision can give (see `version`).

The algorithm
    Each column is cut into atoms at every boundary of every rule's region —
    points and the open intervals between them for numbers and dates, values
    for strings and booleans (`atoms`); a rule is then a box of atom sets,
    held as bitmasks, and sets of rules are bitsets (Python ints).
    `split.partition` (the default) cuts the space in two at a time, at the
    boundary that crosses the fewest rules, carrying the live rules down, and
    stops as soon as a box is settled: no rule left partly inside it (a gap
    when none covers it), or a rule covering it (under FIRST/PRIORITY, the
    first rule). `sweep.sweep` is the textbook column-by-column descent
    (Calvanese et al., "Semantics and Analysis of DMN Decision Tables", BPM
    2016; Drools' decision-table analyser): exact too, but on large
    decision-tree-shaped tables it copies wide rules into every piece of a
    column and takes seconds where the split takes milliseconds; the tests
    check the two agree. Gap boxes are merged into few (`gaps`); overlaps,
    masking and containment follow from the boxes (`relations`, `overlaps`).

Findings (`findings.Kind`, severity)
    gap — inputs no rule covers: an error for single-hit tables without a
    default for every output, else a warning; at most a warning when a
    not-analysed rule may cover it (those rules are the finding's `rules`).
    conflict (error) — overlapping rules under UNIQUE (any overlap, even with
    the same outputs) or ANY (different outputs). redundant_overlap —
    overlapping rules with the same outputs: a warning (information under
    ANY, which allows it). subsumption — one rule's conditions inside
    another's: a warning with the same outputs (one rule is not needed);
    information when, under FIRST or PRIORITY, the winning rule lies inside
    another (an exception to it; not reported against a catch-all rule).
    masked_rule — FIRST/PRIORITY: a rule that never decides, because the
    rules tried before it that overlap it cover it (an error; a warning when
    they all give its outputs). unsatisfiable_rule (error) — a cell no value
    satisfies. type_error (error) — a cell that does not compile for its
    input's type, or an output value of the wrong type. outside_allowed — a
    cell that accepts none of the input's allowed values (error) or names
    some values that are not allowed (warning); an output value not allowed
    (error). missing_basis (warning), unused_input (info), not_analysed (info).
"""

from kijun.criteria.verify.findings import Finding, Kind, NotAnalysedCell, Report, Severity
from kijun.criteria.verify.table import verify_table
from kijun.criteria.verify.version import verify_version

__all__ = [
    "Finding",
    "Kind",
    "NotAnalysedCell",
    "Report",
    "Severity",
    "verify_table",
    "verify_version",
]
