"""The `kijun` command. Thin: every command calls into the packages below it.

Data commands take `--json` and then print one JSON document on stdout.
Exit codes: 0 ok; 1 an error, a failing test case or a broken audit chain;
2 an exception outcome (no rule decides the case).
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

import typer

app = typer.Typer(
    name="kijun",
    help="kijun: decision criteria (判断基準) as data — decide, test, store, serve.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
criteria_app = typer.Typer(help="Criteria stored in the database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(criteria_app, name="criteria")


def emit(data: Any) -> None:
    """Print one JSON document (UTF-8, Japanese kept readable)."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def fail(message: str, *, as_json: bool, code: int = 1, kind: str = "error") -> NoReturn:
    if as_json:
        emit({"error": {"kind": kind, "message": message}})
    else:
        typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@app.command("decide")
def decide_command(
    path: str = typer.Argument(
        ..., help="A criterion file (kijun YAML), a DMN file (.dmn) or an Excel workbook (.xlsx)."
    ),
    input_json: str = typer.Option(..., "--input", "-i", help="Facts as a JSON object."),
    on: str | None = typer.Option(None, "--on", help="Decide as of this date (default today)."),
    decision: str | None = typer.Option(None, "--decision", "-d", help="Decision to answer."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Decide one case: outputs, matched rules, 根拠, version and trace.

    Exit code 2 when no rule decides the case (an exception), 1 on an error.
    """
    from kijun.criteria.decide import decide
    from kijun.criteria.errors import CriteriaError
    from kijun.criteria.formats.yaml import load_file

    try:
        facts = json.loads(input_json)
    except json.JSONDecodeError as e:
        fail(f"--input is not valid JSON: {e.msg} at column {e.colno}", as_json=as_json)
    if not isinstance(facts, dict):
        fail("--input must be a JSON object of facts", as_json=as_json)
    try:
        if path.lower().endswith((".dmn", ".xml")):
            dmn = _dmn_criterion(path)
            if isinstance(dmn, Exception):
                _decide_dmn_model(path, facts, decision, dmn, as_json=as_json)
                return
            criterion = dmn
        elif path.lower().endswith(".xlsx"):
            criterion = _xlsx_criterion(path)
        else:
            criterion = load_file(path)
        result = decide(criterion, facts, on, decision=decision)
    except CriteriaError as e:
        fail(_error_text(e), as_json=as_json)
    data = result.to_dict()
    if as_json:
        emit(data)
    else:
        _print_result(data)
    if not result.decided:
        raise typer.Exit(2)


def _dmn_criterion(path: str) -> Any:
    """The DMN file as a criterion in force from any date, or the reason it is not one."""
    import datetime as dt
    from pathlib import Path

    from kijun.criteria.dmn import DmnError
    from kijun.criteria.formats.dmn_import import (
        DmnImportOptions,
        criterion_from_dmn,
        read_metadata,
    )
    from kijun.criteria.model import VersionStatus

    p = Path(path)
    meta = read_metadata(p)
    options = DmnImportOptions(
        criterion_id=None if meta.get("id") else p.stem,
        effective_from=None if meta.get("effective_from") else dt.date(1, 1, 1),
        status=VersionStatus.PUBLISHED,
    )
    try:
        return criterion_from_dmn(p, options)
    except DmnError as e:
        return e


def _xlsx_criterion(path: str) -> Any:
    """An Excel workbook as a criterion; without 識別子 or 施行日 it is in force from any date."""
    import datetime as dt
    from pathlib import Path

    from kijun.criteria.formats.excel import (
        ExcelImportOptions,
        criterion_from_workbook,
        read_metadata,
    )
    from kijun.criteria.model import VersionStatus

    p = Path(path)
    meta = read_metadata(p)
    options = ExcelImportOptions(
        criterion_id=None if meta.get("id") else p.stem,
        effective_from=None if meta.get("effective_from") else dt.date(1, 1, 1),
        status=VersionStatus.PUBLISHED,
    )
    return criterion_from_workbook(p, options)


def _error_text(e: Exception) -> str:
    """The error's message; an Excel error's Japanese message follows its English one."""
    message_ja = getattr(e, "message_ja", None)
    return f"{e}\n{message_ja}" if message_ja else str(e)


def _decide_dmn_model(
    path: str, facts: dict[str, Any], decision: str | None, why: Exception, *, as_json: bool
) -> None:
    """Evaluate a DMN model that is more than decision tables with the general DMN engine."""
    from pathlib import Path

    from kijun.criteria.dmn import DmnModels, read_dmn
    from kijun.criteria.dmn.jsonvalues import facts_from_json, to_json

    definitions = read_dmn(Path(path))
    models = DmnModels([definitions])
    required = {
        href.rsplit("#", 1)[-1] for d in definitions.decisions for href in d.information
    }
    top = [d.name for d in definitions.decisions if d.id not in required]
    if decision is None:
        if len(top) != 1:
            fail(f"{path}: give --decision (one of: {', '.join(top)})", as_json=as_json)
        decision = top[0]
    try:
        inputs = facts_from_json(definitions, facts)
    except ValueError as e:
        fail(str(e), as_json=as_json)
    try:
        value = models.evaluate(decision, inputs)
    except KeyError:
        names = ", ".join(d.name for d in definitions.decisions)
        fail(f"{path}: no decision named {decision!r} (known: {names})", as_json=as_json)
    outputs = {decision: to_json(value)}
    data = {
        "decision": decision,
        "status": "decided",
        "outputs": outputs,
        "engine": "dmn",
        "note": f"evaluated as a DMN model, without 根拠: {why}",
    }
    if as_json:
        emit(data)
        return
    typer.echo(f"{decision} (DMN model)")
    typer.echo(f"  {decision}: {json.dumps(outputs[decision], ensure_ascii=False)}")


def _print_result(data: dict[str, Any]) -> None:
    v = data["version"]
    typer.echo(f"{data['decision']} — version {v['number']} (施行日 {v['effective_from']})")
    if data["status"] == "exception":
        typer.echo(f"例外 exception: {data['exception']['message']}")
        return
    for name, value in data["outputs"].items():
        typer.echo(f"  {name}: {value}")
    for b in data["basis"]:
        typer.echo(f"  根拠 [{b['decision']} {b['rule']}]: {b['basis'] or '(none)'}")


@app.command("test")
def test_command(
    path: str = typer.Argument(..., help="A criterion file or a folder of them."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Run the test cases of a criterion (or of every criterion in a folder)."""
    from kijun.criteria.errors import CriteriaError
    from kijun.criteria.formats.yaml import load_path
    from kijun.criteria.testing import run_tests

    try:
        criteria = load_path(path)
    except CriteriaError as e:
        fail(str(e), as_json=as_json)
    report = run_tests(criteria)
    if as_json:
        emit(report.to_dict())
    else:
        for case in report.cases:
            if not case.passed:
                typer.echo(f"FAIL {case.criterion} / {case.name} (on {case.on}): {case.message}")
                typer.echo(f"     expected {json.dumps(case.expected, ensure_ascii=False)}")
                typer.echo(f"     actual   {json.dumps(case.actual, ensure_ascii=False)}")
        typer.echo(f"{report.passed} passed, {report.failed} failed")
    if report.failed:
        raise typer.Exit(1)


# -- the database: kijun.store ---------------------------------------------------------------

_DB_URL_HELP = "Database URL (default: $KIJUN_DATABASE_URL, else sqlite:///./var/kijun.db)."


def _default_actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name, e.g. in a container
        return "cli"


def _parse_day(text: str | None, option: str, *, as_json: bool) -> Any:
    import datetime as dt

    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{option} must be a date like 2026-04-01", as_json=as_json)


@db_app.command("upgrade")
def db_upgrade_command(
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Migrate the database to the newest schema (creates it when new)."""
    from sqlalchemy.exc import DBAPIError

    from kijun.store import db

    try:
        revision = db.upgrade(database_url)
    except DBAPIError as e:
        fail(db.describe_db_error(e), as_json=as_json)
    where = db.display_url(database_url)
    if as_json:
        emit({"database": where, "revision": revision, "head": db.head_revision()})
    else:
        typer.echo(f"{where}: at revision {revision} (head)")


@app.command("load")
def load_command(
    path: str = typer.Argument(..., help="A criterion YAML file or a folder of them."),
    actor: str | None = typer.Option(None, "--actor", help="Who loads (for the audit log)."),
    justification: str | None = typer.Option(
        None, "--justification",
        help="Why published versions may take effect despite error-level findings.",
    ),
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Store every criterion under PATH in the database, all or nothing.

    New versions are added, drafts updated; a published version whose content
    changed is refused (add a new version instead).
    """
    from kijun.criteria.errors import CriteriaError
    from kijun.criteria.formats.yaml import load_path
    from kijun.store import StoreError, open_session, save_criterion

    who = actor or _default_actor()
    try:
        criteria = load_path(path)
        if not criteria:
            fail(f"no criterion files under {path}", as_json=as_json)
        with open_session(database_url) as session:
            reports = [
                save_criterion(session, c, actor=who, justification=justification)
                for c in criteria
            ]
    except (CriteriaError, StoreError) as e:
        fail(str(e), as_json=as_json)
    except OSError as e:
        fail(f"{e.filename or path}: {e.strerror or e}", as_json=as_json)
    if as_json:
        emit({"loaded": [r.to_dict() for r in reports]})
        return
    for r in reports:
        parts = [f"{k} {', '.join(map(str, v))}" for k, v in r.to_dict()["versions"].items() if v]
        typer.echo(f"{r.criterion_id}: {r.criterion}; versions {'; '.join(parts) or 'none'}")
    changed = sum(1 for r in reports if r.changed)
    typer.echo(f"{len(reports)} criteria loaded, {changed} changed")


@criteria_app.command("list")
def criteria_list_command(
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List stored criteria with the version in force today."""
    from kijun.store import StoreError, list_criteria, open_session

    try:
        with open_session(database_url) as session:
            summaries = list_criteria(session)
    except StoreError as e:
        fail(str(e), as_json=as_json)
    if as_json:
        emit({"criteria": [s.to_dict() for s in summaries]})
        return
    for s in summaries:
        current = (
            f"version {s.current_version} (施行日 {s.current_effective_from})"
            if s.current_version is not None
            else "no version in force"
        )
        count = f"{s.version_count} version{'' if s.version_count == 1 else 's'}"
        typer.echo(f"{s.id}\t{s.name}\t{s.department or '-'}\t{current}\t{count}")
    if not summaries:
        typer.echo("no criteria stored: `kijun load PATH` adds some")


@criteria_app.command("show")
def criteria_show_command(
    criterion_id: str = typer.Argument(..., metavar="ID", help="The criterion's id."),
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a stored criterion: its versions, their status and content hash, its tests."""
    from kijun.criteria.serial import criterion_to_dict
    from kijun.store import NotFoundError, StoreError, get_criterion, list_versions, open_session

    try:
        with open_session(database_url) as session:
            criterion = get_criterion(session, criterion_id)
            meta = {v.number: v.to_dict() for v in list_versions(session, criterion_id)}
    except StoreError as e:
        kind = "not_found" if isinstance(e, NotFoundError) else "error"
        fail(str(e), as_json=as_json, kind=kind)
    data = criterion_to_dict(criterion)
    for v in data["versions"]:
        stored = meta[v["number"]]
        v.update({k: stored[k] for k in ("content_hash", "created_at", "published_at")})
    if as_json:
        emit(data)
        return
    typer.echo(f"{criterion.id}: {criterion.name} ({criterion.department or '-'})")
    if criterion.basis:
        typer.echo(f"  根拠 {criterion.basis}")
    if criterion.life_events:
        typer.echo(f"  ライフイベント {'、'.join(criterion.life_events)}")
    # The period a version is really in force: it also ends where the next one starts.
    ends = {version.number: end for version, _, end in criterion.in_force()}
    for v in data["versions"]:
        in_force_to = ends.get(v["number"])
        end = in_force_to.isoformat() if in_force_to else v["effective_to"] or "…"
        tables = ", ".join(f"{d['name']} ({len(d['rules'])} rules)" for d in v["decisions"])
        typer.echo(
            f"  version {v['number']} {v['status']:<9} {v['effective_from']} – {end}  "
            f"{tables}  sha256 {v['content_hash'][:12]}"
        )
    typer.echo(f"  {len(criterion.tests)} test cases")


@criteria_app.command("publish")
def criteria_publish_command(
    criterion_id: str = typer.Argument(..., metavar="ID", help="The criterion's id."),
    number: int = typer.Argument(..., help="The draft version's number."),
    effective_from: str | None = typer.Option(
        None, "--effective-from", help="施行日 to publish with (default: the draft's)."
    ),
    actor: str | None = typer.Option(None, "--actor", help="Who publishes (for the audit log)."),
    justification: str | None = typer.Option(
        None, "--justification",
        help="Why the version may take effect despite error-level verification findings "
        "(recorded in the audit log).",
    ),
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Publish a draft version; from then on its content cannot change.

    A draft with error-level findings (see kijun check) is refused unless
    --justification says why it may take effect anyway.
    """
    from kijun.criteria.errors import CriteriaError
    from kijun.store import StoreError, open_session, publish_version

    start = _parse_day(effective_from, "--effective-from", as_json=as_json)
    try:
        with open_session(database_url) as session:
            summary = publish_version(
                session, criterion_id, number, actor=actor or _default_actor(),
                effective_from=start, justification=justification,
            )
    except (StoreError, CriteriaError) as e:
        fail(str(e), as_json=as_json)
    if as_json:
        emit(summary.to_dict())
    else:
        typer.echo(f"{criterion_id} version {number} published, 施行日 {summary.effective_from}")


@criteria_app.command("retire")
def criteria_retire_command(
    criterion_id: str = typer.Argument(..., metavar="ID", help="The criterion's id."),
    number: int = typer.Argument(..., help="The published version's number."),
    effective_to: str | None = typer.Option(
        None, "--effective-to", help="廃止日: the first day no longer in force."
    ),
    actor: str | None = typer.Option(None, "--actor", help="Who retires (for the audit log)."),
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Retire a published version (it still decides the dates it was in force)."""
    from kijun.criteria.errors import CriteriaError
    from kijun.store import StoreError, open_session, retire_version

    end = _parse_day(effective_to, "--effective-to", as_json=as_json)
    try:
        with open_session(database_url) as session:
            summary = retire_version(
                session, criterion_id, number, actor=actor or _default_actor(), effective_to=end
            )
    except (StoreError, CriteriaError) as e:
        fail(str(e), as_json=as_json)
    if as_json:
        emit(summary.to_dict())
    else:
        typer.echo(f"{criterion_id} version {number} retired")


@audit_app.command("verify")
def audit_verify_command(
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Check the audit log's hash chain. Exit code 1 names each broken entry."""
    from kijun.store import StoreError, open_session
    from kijun.store.audit import verify

    try:
        with open_session(database_url) as session:
            report = verify(session)
    except StoreError as e:
        fail(str(e), as_json=as_json)
    if as_json:
        emit(report.to_dict())
    elif report.ok:
        typer.echo(f"audit log intact: {report.entries} entries, head at entry {report.head_seq}")
    else:
        for p in report.problems:
            typer.echo(f"BROKEN ({p.kind}): {p.message}", err=True)
        typer.echo(
            f"audit log broken: {len(report.problems)} problems in {report.entries} entries",
            err=True,
        )
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("list")
def audit_list_command(
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="How many entries, newest first."),
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show the newest audit log entries."""
    from kijun.store import StoreError, open_session
    from kijun.store.audit import list_entries

    try:
        with open_session(database_url) as session:
            entries = list_entries(session, limit=limit)
    except StoreError as e:
        fail(str(e), as_json=as_json)
    if as_json:
        emit({"entries": [entry.to_dict() for entry in entries]})
        return
    for entry in entries:
        row = entry.to_dict()
        detail = json.dumps(entry.detail, ensure_ascii=False, sort_keys=True)
        typer.echo("\t".join(str(row[k]) for k in ("seq", "at", "actor", "action", "target"))
                   + f"\t{detail}")


@app.command("serve")
def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    workers: int = typer.Option(
        1, "--workers", "-w", min=1, max=64,
        help="Worker processes (one per core is a good start); each listens on the port "
        "itself (SO_REUSEPORT), so the kernel spreads connections evenly.",
    ),
    access_log: bool = typer.Option(True, "--access-log/--no-access-log",
                                    help="Log every request (method, path, status)."),
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
) -> None:
    """Serve the web app (Japanese UI and JSON API) with uvicorn."""
    from sqlalchemy.exc import DBAPIError

    from kijun.store import StoreError, db
    from kijun.web.serve import ServeError, serve

    engine = db.make_engine(database_url)
    try:
        db.check_schema(engine)
    except DBAPIError as e:
        fail(db.describe_db_error(e), as_json=False)
    except StoreError as e:
        fail(str(e), as_json=False)
    finally:
        engine.dispose()
    plural = "s" if workers > 1 else ""
    typer.echo(f"kijun: serving {db.display_url(database_url)} on http://{host}:{port}/ "
               f"({workers} worker{plural})")
    try:
        serve(host, port, workers=workers, database_url=database_url, access_log=access_log)
    except ServeError as e:
        fail(str(e), as_json=False)


_EXPORT_FORMATS = {".dmn": "dmn", ".xml": "dmn", ".xlsx": "xlsx", ".yaml": "yaml", ".yml": "yaml"}


@app.command("export")
def export_command(
    path: str = typer.Argument(
        ..., help="A criterion file: kijun YAML, DMN (.dmn) or an Excel workbook (.xlsx)."
    ),
    version: int | None = typer.Option(None, "--version", "-v",
                                       help="Version number (default: the newest)."),
    output: str | None = typer.Option(None, "--output", "-o", help="Write to this file."),
    fmt: str | None = typer.Option(
        None, "--format", "-f",
        help="dmn, xlsx or yaml (default: from the -o suffix, else dmn).",
    ),
) -> None:
    """Export one version of a criterion as DMN 1.5 XML (Camunda, Drools, Trisotech),
    as an Excel workbook a clerk can fill in (docs/excel.md), or as kijun YAML.

    --format yaml writes the whole criterion with its test cases; with --version,
    only that version and the test cases decided under it.
    """
    import datetime as dt
    from dataclasses import replace
    from pathlib import Path

    from kijun.criteria.errors import CriteriaError
    from kijun.criteria.formats.dmn import version_to_dmn

    suffix = Path(output).suffix.lower() if output else ""
    kind = (fmt or _EXPORT_FORMATS.get(suffix, "dmn")).strip().lower()
    if kind not in ("dmn", "xlsx", "yaml"):
        fail(f"--format must be dmn, xlsx or yaml, not {fmt!r}", as_json=False)
    if kind == "xlsx" and not output:
        fail("--format xlsx writes a workbook: give -o FILE.xlsx", as_json=False)
    try:
        criterion = _criterion_file(path)
        chosen = (criterion.version(version) if version is not None
                  else max(criterion.versions, key=lambda v: v.effective_from))
    except KeyError as e:
        fail(str(e).strip("'\""), as_json=False)
    except CriteriaError as e:
        fail(_error_text(e), as_json=False)
    if kind == "xlsx":
        from kijun.criteria.formats.excel import version_to_workbook

        assert output is not None
        Path(output).write_bytes(version_to_workbook(criterion, chosen))
        return
    if kind == "yaml":
        from kijun.criteria.formats.yaml_export import criterion_to_yaml

        if version is not None:
            today = dt.date.today()
            tests = tuple(t for t in criterion.tests
                          if criterion.version_on(t.on or today) is chosen)
            criterion = replace(criterion, versions=(chosen,), tests=tests)
        text = criterion_to_yaml(criterion)
    else:
        text = version_to_dmn(criterion, chosen)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        typer.echo(text, nl=False)


def _criterion_file(path: str) -> Any:
    """A criterion read from a file by its suffix: kijun YAML, DMN or an Excel workbook."""
    from pathlib import Path

    from kijun.criteria.formats.yaml import load_file

    if path.lower().endswith((".dmn", ".xml")):
        from kijun.criteria.formats.dmn_import import criterion_from_dmn

        return criterion_from_dmn(Path(path))
    if path.lower().endswith(".xlsx"):
        from kijun.criteria.formats.excel import criterion_from_workbook

        return criterion_from_workbook(Path(path))
    return load_file(path)


@app.command("import")
def import_command(
    path: str = typer.Argument(
        ..., help="A DMN 1.1–1.5 file (.dmn / .xml) or an Excel workbook (.xlsx)."
    ),
    criterion_id: str | None = typer.Option(
        None, "--criterion", "-c", help="Criterion id (default: from the file's kijun extension)."
    ),
    version: int | None = typer.Option(
        None, "--version", "-v", help="Version number (default: the file's, else the next one)."
    ),
    effective_from: str | None = typer.Option(
        None, "--effective-from", help="施行日, e.g. 2026-04-01 (default: the file's)."
    ),
    status: str | None = typer.Option(
        None, "--status", help="draft or published (default: the file's, else draft)."
    ),
    department: str | None = typer.Option(None, "--department", help="担当課 for a new criterion."),
    actor: str | None = typer.Option(None, "--actor", help="Who imports (for the audit log)."),
    justification: str | None = typer.Option(
        None, "--justification",
        help="Why a published version may take effect despite error-level findings.",
    ),
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Store a DMN model as a criterion version, all or nothing.

    The model's decision tables become the version's; 根拠 and 注記 come from
    annotation columns of those names. A new criterion takes its name from the
    model; an existing one only gains (or, for a draft, updates) the version.
    An Excel workbook (.xlsx, docs/excel.md) is read the same way: its 「基準」
    sheet plays the part of the kijun extension, each other sheet is a decision.
    """
    from dataclasses import replace
    from pathlib import Path

    from kijun.criteria.errors import CriteriaError
    from kijun.criteria.formats.dmn_import import (
        DmnImportOptions,
        criterion_from_dmn,
        read_metadata,
    )
    from kijun.criteria.model import VersionStatus
    from kijun.store import NotFoundError, StoreError, get_criterion, open_session, save_criterion

    try:
        chosen_status = VersionStatus(status) if status else None
    except ValueError:
        fail(f"--status must be draft or published, not {status!r}", as_json=as_json)
    if chosen_status is VersionStatus.RETIRED:
        fail("--status must be draft or published, not 'retired'", as_json=as_json)
    options = DmnImportOptions(
        criterion_id=criterion_id,
        version=version,
        effective_from=_parse_day(effective_from, "--effective-from", as_json=as_json),
        status=chosen_status,
        department=department,
    )
    if path.lower().endswith(".xlsx"):
        from kijun.criteria.formats import excel

        read_metadata, criterion_from_dmn = excel.read_metadata, excel.criterion_from_workbook
    try:
        file_says = read_metadata(Path(path))
        imported = criterion_from_dmn(Path(path), options)
        with open_session(database_url) as session:
            try:
                stored = get_criterion(session, imported.id)
            except NotFoundError:
                stored = None
            if stored is not None:
                if version is None and "version" not in file_says:
                    numbers = [v.number for v in stored.versions]
                    options = replace(options, default_version=max(numbers, default=0) + 1)
                    imported = criterion_from_dmn(Path(path), options)
                # the criterion keeps its name, department and test cases: a model only
                # brings a version
                imported = replace(stored, versions=imported.versions)
            report = save_criterion(session, imported, actor=actor or _default_actor(),
                                    justification=justification)
    except (CriteriaError, StoreError) as e:
        fail(_error_text(e), as_json=as_json)
    v = imported.versions[0]
    data = {
        "criterion": imported.id,
        "version": v.number,
        "effective_from": v.effective_from.isoformat(),
        "status": v.status.value,
        "decisions": [d.name for d in v.decisions],
        "rules": sum(len(d.rules) for d in v.decisions),
        "saved": report.to_dict(),
    }
    if as_json:
        emit(data)
        return
    typer.echo(
        f"{imported.id}: version {v.number} ({v.status.value}, 施行日 {v.effective_from}) — "
        f"{len(v.decisions)} decisions, {data['rules']} rules"
    )


def _criterion_from(spec: str, database_url: str | None, *, as_json: bool) -> Any:
    """A criterion from a YAML, DMN or Excel file, else from the database by id."""
    from pathlib import Path

    from kijun.criteria.errors import CriteriaError
    from kijun.criteria.formats.yaml import load_file
    from kijun.store import StoreError, get_criterion, open_session

    try:
        if Path(spec).is_file():
            if spec.lower().endswith((".dmn", ".xml")):
                from kijun.criteria.formats.dmn_import import criterion_from_dmn

                return criterion_from_dmn(Path(spec))
            if spec.lower().endswith(".xlsx"):
                return _xlsx_criterion(spec)
            return load_file(spec)
        with open_session(database_url) as session:
            return get_criterion(session, spec)
    except (CriteriaError, StoreError) as e:
        fail(_error_text(e), as_json=as_json)


@app.command("check")
def check_command(
    criterion: str = typer.Argument(
        ..., help="A criterion file (kijun YAML, DMN or .xlsx), or a stored criterion's id."
    ),
    version: int | None = typer.Option(
        None, "--version", "-v", help="Version number (default: the newest)."
    ),
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Verify a criterion version: gaps, conflicts, masked and dead rules, missing 根拠.

    Exit code 1 when there is an error-level finding.
    """
    from kijun.criteria.verify import verify_version

    c = _criterion_from(criterion, database_url, as_json=as_json)
    try:
        chosen = c.version(version) if version is not None else max(
            c.versions, key=lambda v: v.number
        )
    except KeyError as e:
        fail(str(e).strip("'\""), as_json=as_json)
    report = verify_version(chosen)
    if as_json:
        emit({"criterion": c.id, "version": chosen.number, **report.to_dict()})
    else:
        typer.echo(
            f"{c.id} version {chosen.number}: {len(report.findings)} findings; "
            f"{report.analysed_rules} of {report.rules} rules analysed"
        )
        for f in report.findings:
            rules = ", ".join(f"規則{n}" for n in f.rules)
            typer.echo(f"  [{f.severity.value}] {f.kind.value} {f.decision}"
                       f"{' (' + rules + ')' if rules else ''}")
            typer.echo(f"      {f.message_ja}")
            typer.echo(f"      {f.message_en}")
    if report.has_errors:
        raise typer.Exit(1)


@app.command("diff")
def diff_command(
    criterion: str = typer.Argument(..., help="A criterion file, or a stored criterion's id."),
    from_version: int = typer.Argument(..., metavar="V1", help="The older version."),
    to_version: int = typer.Argument(..., metavar="V2", help="The newer version."),
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Rules added, removed and changed between two versions, and where outcomes differ."""
    from kijun.criteria.diff import diff_versions

    c = _criterion_from(criterion, database_url, as_json=as_json)
    try:
        result = diff_versions(c, from_version, to_version)
    except KeyError as e:
        fail(str(e).strip("'\""), as_json=as_json)
    if as_json:
        emit(result.to_dict())
        return
    typer.echo(f"{c.id}: version {from_version} → {to_version}")
    for d in result.decisions:
        typer.echo(f"  {d.decision}: {d.status}")
        if d.hit_policy:
            typer.echo(f"    hit policy {d.hit_policy[0]} → {d.hit_policy[1]}")
        for label, ids in (("rules added", d.rules_added), ("rules removed", d.rules_removed),
                           ("inputs added", d.inputs_added),
                           ("inputs removed", d.inputs_removed)):
            if ids:
                typer.echo(f"    {label}: {', '.join(ids)}")
        for rc in d.rules_changed:
            typer.echo(f"    rule {rc.id} changed: {', '.join(rc.fields)}")
        if d.reordered:
            typer.echo("    rules reordered")
        for ch in d.changes:
            typer.echo(f"    ≠ {ch.message_ja}")
        if d.not_analysed:
            typer.echo(f"    (outcomes not compared: {d.not_analysed})")


@app.command("impact")
def impact_command(
    criterion: str = typer.Argument(..., help="A criterion file, or a stored criterion's id."),
    from_version: int = typer.Option(..., "--from", help="The version in force now."),
    to_version: int = typer.Option(..., "--to", help="The new version."),
    facts: str | None = typer.Option(None, "--facts", help="A CSV of facts: a header of "
                                     "input names, one case per row."),
    stored: bool = typer.Option(False, "--stored-decisions",
                                help="Replay the decisions stored in the database."),
    on: str | None = typer.Option(None, "--on", help="Decide on this date (default: each "
                                  "case's own date, else the new version's 施行日)."),
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Replay cases under two versions: how many outcomes change, which way, and why.

    The cases are the criterion's test cases unless --facts or --stored-decisions
    says otherwise.
    """
    from kijun.criteria.impact import (
        ReplayCase,
        cases_from_csv,
        cases_from_tests,
        replay,
    )
    from kijun.store import StoreError, list_decisions, open_session

    if facts and stored:
        fail("give --facts or --stored-decisions, not both", as_json=as_json)
    c = _criterion_from(criterion, database_url, as_json=as_json)
    day = _parse_day(on, "--on", as_json=as_json)
    if facts:
        try:
            cases = cases_from_csv(facts)
        except ValueError as e:
            fail(str(e), as_json=as_json)
        source = f"{len(cases)} rows of {facts}"
    elif stored:
        try:
            with open_session(database_url) as session:
                records = list_decisions(session, c.id, limit=None)
        except StoreError as e:
            fail(str(e), as_json=as_json)
        cases = [ReplayCase(f"decision {r.id}", r.facts, r.on, r.decision) for r in records]
        source = f"{len(cases)} stored decisions"
    else:
        cases = cases_from_tests(c)
        source = f"{len(cases)} test cases"
    try:
        report = replay(c, from_version, to_version, cases, source=source, on=day)
    except KeyError as e:
        fail(str(e).strip("'\""), as_json=as_json)
    if as_json:
        emit(report.to_dict())
        return
    typer.echo(
        f"{c.id}: version {from_version} → {to_version}, {source}: "
        f"{report.changed} of {report.total} change"
    )
    for g in report.groups:
        typer.echo(f"  {g.count:5d}  {_outcome_text(g.before)}  →  {_outcome_text(g.after)}")
        typer.echo(f"         rules {', '.join(g.rules_before) or '-'} → "
                   f"{', '.join(g.rules_after) or '-'}; e.g. "
                   f"{'; '.join(e['case'] for e in g.examples)}")


def _outcome_text(value: dict[str, Any]) -> str:
    if value.get("status") == "error":
        return f"error ({value.get('error')})"
    if value.get("status") == "exception":
        return "例外 exception"
    return ", ".join(f"{k} {json.dumps(v, ensure_ascii=False)}"
                     for k, v in value.items() if k != "status") or "(no outputs)"


@app.command("tck")
def tck_command(
    directory: str = typer.Argument(..., help="A DMN TCK folder (e.g. compliance-level-3)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    csv_out: str | None = typer.Option(None, "--csv", help="Write tck_results.csv here."),
) -> None:
    """Run the DMN TCK test files under DIRECTORY and count passes.

    Exit code 0 whenever the run completes, whatever the pass count.
    """
    from pathlib import Path

    from kijun.criteria.dmn import run_tck

    if not Path(directory).is_dir():
        fail(f"{directory}: not a directory", as_json=as_json)
    report = run_tck(directory)
    if csv_out:
        report.write_csv(csv_out)
    summary = report.summary()
    if as_json:
        emit(summary)
        return
    for folder, counts in summary["by_folder"].items():
        typer.echo(f"{counts['passed']:5d}/{counts['total']:<5d} {folder}")
    typer.echo(
        f"total {summary['total']}: {summary['passed']} passed, {summary['failed']} failed, "
        f"{summary['errors']} errors, {summary['skipped']} skipped ({report.seconds:.1f} s)"
    )


# -- process metrics of an event log: kijun.measure ---------------------------------------------


@app.command("metrics")
def metrics_command(
    log_path: str | None = typer.Argument(None, metavar="LOG",
                                          help="An XES event log (.xes or .xes.gz)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    split_date: str | None = typer.Option(
        None, "--split-date", help="Compare the cases started before this date (YYYY-MM-DD) "
        "with those started on or after it."),
    split_attr: str | None = typer.Option(
        None, "--split-attr", help="Compare the cases with NAME=VALUE (a case or event "
        "attribute) against the rest."),
    by: str | None = typer.Option(
        None, "--by", help="One row per activity, resource, role, department or month."),
    hours: str = typer.Option("8:30-17:15", "--hours", help="The town's business hours."),
    timezone: str = typer.Option(
        "Asia/Tokyo", "--timezone",
        help="Local time zone of the business hours, the months and --split-date."),
    naive_timezone: str | None = typer.Option(
        None, "--naive-timezone", help="Read timestamps without an offset as local time in "
        "this zone (without it they are an error)."),
    resamples: int = typer.Option(1000, "--resamples", help="Bootstrap resamples (--split-*)."),
    seed: int = typer.Option(20260401, "--seed", help="Seed of the bootstrap."),
    stored: str | None = typer.Option(
        None, "--stored", metavar="LOG", help="Instead of a file, a log in the database: "
        "'kijun' (kijun's own steps) or a log's number (kijun events list)."),
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
) -> None:
    """Process metrics of an event log: lead time, rework, round trips, hand-offs …

    With --split-date or --split-attr, the two parts side by side: each metric
    before and after, the difference, its bootstrap 95% confidence interval and
    a summary in plain Japanese. Definitions: kijun.measure.metrics (docs/measure.md).
    """
    from kijun.measure import (
        BusinessHours,
        BusinessHoursError,
        XESError,
        compare,
        compute_metrics,
        metrics_by,
        prepare,
        read_xes,
        split_by_attribute,
        split_by_date,
    )
    from kijun.measure.metrics import GROUPINGS, METRIC_INFO, describe

    if split_date and split_attr:
        fail("give --split-date or --split-attr, not both", as_json=as_json)
    if by and (split_date or split_attr):
        fail("--by cannot be combined with a split", as_json=as_json)
    if by and by not in GROUPINGS:
        fail(f"--by must be one of {', '.join(GROUPINGS)}", as_json=as_json)
    if split_attr and "=" not in split_attr:
        fail("--split-attr must look like NAME=VALUE", as_json=as_json)
    day = _parse_day(split_date, "--split-date", as_json=as_json)
    try:
        business = BusinessHours.parse(hours, timezone=timezone)
    except BusinessHoursError as e:
        fail(str(e), as_json=as_json)
    if (log_path is None) == (stored is None):
        fail("give an XES file (LOG) or --stored LOG, one of them", as_json=as_json)
    if stored is not None:
        log, log_path = _stored_log(stored, database_url, as_json=as_json)
    else:
        assert log_path is not None
        try:
            log = read_xes(log_path, naive_timezone=naive_timezone)
        except XESError as e:
            fail(f"{log_path}: {e}", as_json=as_json)

    if day is not None or split_attr:
        if day is not None:
            before, after = split_by_date(log, day, timezone)
            split, labels, kind = f"case start < {day.isoformat()}", ("変更前", "変更後"), "date"
        else:
            name, _, value = (split_attr or "").partition("=")
            try:
                before, after = split_by_attribute(log, name, value)
            except ValueError as e:
                fail(str(e), as_json=as_json)
            split, labels, kind = f"{name}={value}", (f"{name}≠{value}", f"{name}={value}"), "attr"
        result = compare(before, after, hours=business, resamples=resamples, seed=seed,
                         split=split, labels=labels, split_kind=kind)
        if as_json:
            emit({"log": log_path, **result.to_dict()})
            return
        typer.echo(f"{log_path}: {labels[0]} {before.cases.height} cases, "
                   f"{labels[1]} {after.cases.height} cases ({split})")
        typer.echo(f"{'metric':28s} {'before':>14s} {'after':>14s} {'difference':>14s}  95% CI")
        for c in result.changes:
            ci = ("" if c.ci_low is None or c.ci_high is None
                  else f"[{_metric_text(c.ci_low)}, {_metric_text(c.ci_high)}]")
            typer.echo(f"{c.name:28s} {_metric_text(c.before):>14s} {_metric_text(c.after):>14s} "
                       f"{_metric_text(c.difference):>14s}  {ci}")
        typer.echo("")
        for line in result.summary:
            typer.echo(line)
        return

    prepared = prepare(log, business)
    if by:
        table = metrics_by(prepared, by)
        if as_json:
            emit({"log": log_path, "by": by, **describe(prepared), "rows": table.to_dicts()})
            return
        shown = ("cases", "events", "lead_time_median", "first_time_right_rate", "return_rate",
                 "handoffs_mean", "resource_hhi")
        typer.echo(f"{by:24s} " + " ".join(f"{m:>14s}" for m in shown))
        for row in table.iter_rows(named=True):
            group = "(none)" if row[by] is None else str(row[by])
            typer.echo(f"{group[:24]:24s} " + " ".join(
                f"{_metric_text(row[m]):>14s}" for m in shown))
        return
    metrics = compute_metrics(prepared)
    if as_json:
        emit({"log": log_path, **describe(prepared), "metrics": metrics})
        return
    typer.echo(f"{log_path}: {describe(prepared)['counted']}")
    for metric, amount in metrics.items():
        typer.echo(f"{metric:28s} {_metric_text(amount):>16s}  {METRIC_INFO[metric].label}")


def _stored_log(key: str, database_url: str | None, *, as_json: bool) -> tuple[Any, str]:
    """A log from the database, and how to name it in the output (``stored:KEY``)."""
    from kijun.store import StoreError, open_session
    from kijun.store.events import find_event_log, load_event_log

    try:
        with open_session(database_url) as session:
            summary = find_event_log(session, key)
            return load_event_log(session, summary.id), f"stored:{summary.key}"
    except StoreError as e:
        fail(str(e), as_json=as_json)


def _metric_text(value: float | int | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,d}"
    return f"{value:,.4f}" if abs(value) < 1000 else f"{value:,.1f}"


# -- stored event logs: kijun.store.events --------------------------------------------------------

events_app = typer.Typer(
    help="Event logs in the database: kijun's own (every review step) and imported XES / "
    "OCEL 2.0 files.",
    no_args_is_help=True,
)
app.add_typer(events_app, name="events")

_LOG_HELP = "A stored log: 'kijun' (kijun's own) or a log's number (kijun events list)."
_LOG_FORMATS = ("xes", "ocel-json", "ocel-xml", "ocel-sqlite")


def _read_event_file(path: str, *, object_type: str | None, resource: list[str],
                     naive_timezone: str | None, as_json: bool) -> Any:
    """An XES or OCEL 2.0 file as an EventLog (an OCEL log flattened on one object type)."""
    from kijun.measure import OcelError, XESError, flatten, ocel_format, read_ocel, read_xes

    lower = path.lower()
    try:
        if lower.endswith((".xes", ".xes.gz")):
            return read_xes(path, naive_timezone=naive_timezone)
        if ocel_format(path) is None:
            fail(f"{path}: not an event log kijun reads (.xes, .xes.gz, .jsonocel, .json, "
                 ".xmlocel, .xml, .sqlite)", as_json=as_json)
        ocel = read_ocel(path, naive_timezone=naive_timezone)
    except (XESError, OcelError) as e:
        fail(f"{path}: {e}" if isinstance(e, XESError) else str(e), as_json=as_json)
    types = [t.name for t in ocel.object_types]
    chosen = object_type or (types[0] if len(types) == 1 else None)
    if chosen is None:
        fail(f"{path} has the object types {', '.join(repr(t) for t in types) or 'none'}: "
             "choose the one whose objects are the cases with --object-type", as_json=as_json)
    try:
        return flatten(ocel, chosen, resource=resource)
    except OcelError as e:
        fail(str(e), as_json=as_json)


@events_app.command("import")
def events_import_command(
    path: str = typer.Argument(..., metavar="FILE",
                               help="An XES (.xes, .xes.gz) or OCEL 2.0 (.jsonocel, .json, "
                               ".xmlocel, .xml, .sqlite) event log."),
    name: str | None = typer.Option(None, "--name", help="The log's name (default: the file's)."),
    object_type: str | None = typer.Option(
        None, "--object-type", help="OCEL: the object type whose objects are the cases "
        "(needed when the log has several)."),
    resource: list[str] = typer.Option(
        [], "--resource", help="OCEL: an event attribute naming the resource; repeat for "
        "several (the first an event has is taken)."),
    naive_timezone: str | None = typer.Option(
        None, "--naive-timezone", help="Read timestamps without an offset as local time in "
        "this zone (without it they are an error)."),
    actor: str | None = typer.Option(None, "--actor", help="Who imports (for the audit log)."),
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Store an event log file in the database, all or nothing."""
    from pathlib import Path

    from kijun.store import StoreError, open_session
    from kijun.store.events import get_event_log, import_event_log

    log = _read_event_file(path, object_type=object_type, resource=resource,
                           naive_timezone=naive_timezone, as_json=as_json)
    stem = Path(path).name
    for suffix in (".gz", ".xes", ".jsonocel", ".json", ".xmlocel", ".xml", ".sqlite"):
        stem = stem.removesuffix(suffix)
    try:
        with open_session(database_url) as session:
            log_id = import_event_log(session, log, name=name or stem or Path(path).name,
                                      source=path, actor=actor or _default_actor())
            summary = get_event_log(session, log_id)
    except StoreError as e:
        fail(str(e), as_json=as_json)
    if as_json:
        emit({"imported": summary.to_dict()})
        return
    typer.echo(f"event log {summary.id} ({summary.name}): {summary.events:,} events, "
               f"{summary.cases:,} cases imported")


@events_app.command("list")
def events_list_command(
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the stored event logs: kijun's own first, then imports, newest first."""
    from kijun.store import StoreError, open_session
    from kijun.store.events import list_event_logs

    try:
        with open_session(database_url) as session:
            logs = list_event_logs(session)
    except StoreError as e:
        fail(str(e), as_json=as_json)
    if as_json:
        emit({"logs": [s.to_dict() for s in logs]})
        return
    for s in logs:
        origin = "kijun's own steps" if s.builtin else (
            f"{s.source}, imported {s.imported_at:%Y-%m-%d %H:%M} UTC by {s.imported_by}")
        typer.echo(f"{s.key}\t{s.name}\t{s.events:,} events\t{s.cases:,} cases\t{origin}")


@events_app.command("export")
def events_export_command(
    key: str = typer.Argument(..., metavar="LOG", help=_LOG_HELP),
    fmt: str = typer.Option("xes", "--format", help="xes, ocel-json, ocel-xml or ocel-sqlite."),
    output: str = typer.Option(..., "-o", "--output",
                               help="The file to write (XES: .xes, or .xes.gz for gzip)."),
    timezone: str = typer.Option("Asia/Tokyo", "--timezone",
                                 help="XES: write timestamps in this zone."),
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Write a stored log as XES or OCEL 2.0 (one object per case)."""
    from kijun.measure import OcelError, OcelFormat, XESError, to_ocel, write_ocel, write_xes
    from kijun.store import StoreError, open_session
    from kijun.store.events import find_event_log, load_event_log

    if fmt not in _LOG_FORMATS:
        fail(f"--format must be one of {', '.join(_LOG_FORMATS)}", as_json=as_json)
    try:
        with open_session(database_url) as session:
            summary = find_event_log(session, key)
            log = load_event_log(session, summary.id)
    except StoreError as e:
        fail(str(e), as_json=as_json)
    try:
        if fmt == "xes":
            write_xes(log, output, timezone=timezone)
        else:
            kind: OcelFormat = ("json" if fmt == "ocel-json" else
                                "xml" if fmt == "ocel-xml" else "sqlite")
            write_ocel(to_ocel(log), output, format=kind)
    except (XESError, OcelError) as e:
        fail(str(e), as_json=as_json)
    except OSError as e:
        fail(f"{e.filename or output}: {e.strerror or e}", as_json=as_json)
    if as_json:
        emit({"log": summary.to_dict(), "format": fmt, "output": output})
        return
    typer.echo(f"{output}: event log {summary.key} ({summary.name}), {summary.events:,} events, "
               f"as {fmt}")


@events_app.command("delete")
def events_delete_command(
    log_id: int = typer.Argument(..., metavar="LOG_ID", help="An imported log's number."),
    actor: str | None = typer.Option(None, "--actor", help="Who deletes (for the audit log)."),
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Delete an imported log with its events (kijun's own log cannot be deleted)."""
    from kijun.store import StoreError, open_session
    from kijun.store.events import delete_event_log

    try:
        with open_session(database_url) as session:
            summary = delete_event_log(session, log_id, actor=actor or _default_actor())
    except StoreError as e:
        fail(str(e), as_json=as_json)
    if as_json:
        emit({"deleted": summary.to_dict()})
        return
    typer.echo(f"event log {summary.id} ({summary.name}) deleted: {summary.events:,} events")


# -- users, API tokens and the demo's users: kijun.store.users ------------------------------------

user_app = typer.Typer(
    help="Users: login, department (課), roles (admin, author, approver, staff, viewer), "
    "password.",
    no_args_is_help=True,
)
token_app = typer.Typer(
    help="API tokens for `Authorization: Bearer …` (shown once, stored as SHA-256).",
    no_args_is_help=True,
)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")

_ROLE_HELP = "A role: admin, author, approver, staff or viewer; repeat --role for several."
_PASSWORD_STDIN_HELP = (
    "Read the password from the first line of standard input; without it a random "
    "password is generated and printed once."
)


def _password_from_stdin(*, as_json: bool) -> str:
    import sys

    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        fail("--password-stdin: no password on standard input", as_json=as_json)
    return password


def _user_line(user: Any) -> str:
    state = "active" if user.active else "disabled"
    return (f"{user.login}\t{user.name}\t{user.department}\t{','.join(user.roles)}\t{state}")


def _store_fail(e: Exception, *, as_json: bool) -> NoReturn:
    from kijun.store import NotFoundError

    fail(str(e), as_json=as_json, kind="not_found" if isinstance(e, NotFoundError) else "error")


@user_app.command("add")
def user_add_command(
    login: str = typer.Argument(..., help="The login (利用者ID): letters, digits, . _ - @."),
    name: str = typer.Option(..., "--name", help="The user's name as shown (氏名)."),
    department: str = typer.Option(..., "--department", help="Their department (課)."),
    roles: list[str] = typer.Option(..., "--role", help=_ROLE_HELP),
    password_stdin: bool = typer.Option(False, "--password-stdin", help=_PASSWORD_STDIN_HELP),
    actor: str | None = typer.Option(None, "--actor", help="Who adds (for the audit log)."),
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Add a user. The password is argon2id-hashed; a generated one is printed once."""
    from kijun.store import StoreError, create_user, generate_password, open_session

    generated = not password_stdin
    password = generate_password() if generated else _password_from_stdin(as_json=as_json)
    try:
        with open_session(database_url) as session:
            user = create_user(session, login, name=name, department=department, roles=roles,
                               password=password, actor=actor or _default_actor())
    except StoreError as e:
        _store_fail(e, as_json=as_json)
    if as_json:
        emit({"user": user.to_dict(), **({"password": password} if generated else {})})
        return
    typer.echo(f"added {user.login} ({user.department}; roles {', '.join(user.roles)})")
    if generated:
        typer.echo(f"password (shown only now; give it to {user.login} safely): {password}")


@user_app.command("list")
def user_list_command(
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List users: login, name, department, roles, active or disabled."""
    from kijun.store import StoreError, list_users, open_session

    try:
        with open_session(database_url) as session:
            users = list_users(session)
    except StoreError as e:
        _store_fail(e, as_json=as_json)
    if as_json:
        emit({"users": [u.to_dict() for u in users]})
        return
    for u in users:
        typer.echo(_user_line(u))
    if not users:
        typer.echo("no users: `kijun user add LOGIN …` or `kijun demo-users` adds some")


def _switch_user(login: str, enable: bool, actor: str | None, database_url: str | None,
                 as_json: bool) -> None:
    from kijun.store import StoreError, disable_user, enable_user, open_session

    change = enable_user if enable else disable_user
    try:
        with open_session(database_url) as session:
            user, changed = change(session, login, actor=actor or _default_actor())
    except StoreError as e:
        _store_fail(e, as_json=as_json)
    if as_json:
        emit({"user": user.to_dict(), "changed": changed})
        return
    state = "enabled" if enable else "disabled"
    typer.echo(f"{user.login} {state}" if changed else f"{user.login} was already {state}")


@user_app.command("disable")
def user_disable_command(
    login: str = typer.Argument(..., help="The user's login."),
    actor: str | None = typer.Option(None, "--actor", help="Who disables (for the audit log)."),
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Stop a user logging in: their sessions end and their API tokens stop working."""
    _switch_user(login, False, actor, database_url, as_json)


@user_app.command("enable")
def user_enable_command(
    login: str = typer.Argument(..., help="The user's login."),
    actor: str | None = typer.Option(None, "--actor", help="Who enables (for the audit log)."),
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Let a disabled user log in again."""
    _switch_user(login, True, actor, database_url, as_json)


@user_app.command("password")
def user_password_command(
    login: str = typer.Argument(..., help="The user's login."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help=_PASSWORD_STDIN_HELP),
    actor: str | None = typer.Option(None, "--actor", help="Who sets it (for the audit log)."),
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Set a user's password; every session of theirs ends."""
    from kijun.store import StoreError, generate_password, open_session, set_password

    generated = not password_stdin
    password = generate_password() if generated else _password_from_stdin(as_json=as_json)
    try:
        with open_session(database_url) as session:
            user = set_password(session, login, password, actor=actor or _default_actor())
    except StoreError as e:
        _store_fail(e, as_json=as_json)
    if as_json:
        emit({"user": user.to_dict(), **({"password": password} if generated else {})})
        return
    typer.echo(f"password of {user.login} changed; their sessions have ended")
    if generated:
        typer.echo(f"new password (shown only now): {password}")


@token_app.command("create")
def token_create_command(
    login: str = typer.Argument(..., help="The user the token acts as (their roles apply)."),
    name: str = typer.Option(..., "--name", help="What the token is for, e.g. 基幹系連携."),
    actor: str | None = typer.Option(None, "--actor", help="Who creates (for the audit log)."),
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create an API token; it is printed once and only its SHA-256 is stored."""
    from kijun.store import StoreError, create_token, open_session

    try:
        with open_session(database_url) as session:
            summary, secret = create_token(session, login, name=name,
                                           actor=actor or _default_actor())
    except StoreError as e:
        _store_fail(e, as_json=as_json)
    if as_json:
        emit({**summary.to_dict(), "token": secret})
        return
    typer.echo(f"token {summary.id} for {summary.login} ({summary.name}); shown only now:")
    typer.echo(secret)


@token_app.command("list")
def token_list_command(
    login: str | None = typer.Argument(None, help="Only this user's tokens."),
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List API tokens (never their values): id, user, name, created, last used, revoked."""
    from kijun.store import StoreError, list_tokens, open_session

    try:
        with open_session(database_url) as session:
            tokens = list_tokens(session, login)
    except StoreError as e:
        _store_fail(e, as_json=as_json)
    if as_json:
        emit({"tokens": [t.to_dict() for t in tokens]})
        return
    for t in tokens:
        row = t.to_dict()
        state = "revoked" if t.revoked else "live"
        typer.echo(f"{t.id}\t{t.login}\t{t.name}\t{row['created_at']}\t"
                   f"{row['last_used_at'] or 'never used'}\t{state}")
    if not tokens:
        typer.echo("no API tokens")


@token_app.command("revoke")
def token_revoke_command(
    token_id: int = typer.Argument(..., metavar="ID", help="The token's id (kijun token list)."),
    actor: str | None = typer.Option(None, "--actor", help="Who revokes (for the audit log)."),
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Revoke an API token for good."""
    from kijun.store import StoreError, open_session, revoke_token

    try:
        with open_session(database_url) as session:
            summary, changed = revoke_token(session, token_id, actor=actor or _default_actor())
    except StoreError as e:
        _store_fail(e, as_json=as_json)
    if as_json:
        emit({**summary.to_dict(), "changed": changed})
    elif changed:
        typer.echo(f"token {summary.id} of {summary.login} revoked")
    else:
        typer.echo(f"token {summary.id} of {summary.login} was already revoked")


@app.command("demo-users")
def demo_users_command(
    actor: str | None = typer.Option(None, "--actor", help="Who adds (for the audit log)."),
    database_url: str | None = typer.Option(None, "--database-url", help=_DB_URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Add one user per role for the Nagi-cho demo, with random passwords printed once.

    Users that already exist are left alone (their passwords are not shown again).
    """
    from kijun.store import ROLE_LABELS_JA, StoreError, ensure_demo_users, open_session

    try:
        with open_session(database_url) as session:
            made = ensure_demo_users(session, actor=actor or _default_actor())
    except StoreError as e:
        _store_fail(e, as_json=as_json)
    if as_json:
        emit({"users": [{"user": d.user.to_dict(), "created": d.created,
                         **({"password": d.password} if d.password else {})} for d in made]})
        return
    for d in made:
        roles = "・".join(ROLE_LABELS_JA.get(r, r) for r in d.user.roles)
        if d.password:
            typer.echo(f"created {d.user.login}\t{roles}（{d.user.department}）"
                       f"\tpassword: {d.password}")
        else:
            typer.echo(f"exists  {d.user.login}\t{roles}（{d.user.department}）"
                       "\tleft alone (password not shown again)")
    if any(d.password for d in made):
        typer.echo("passwords are shown only now: note them, or reset one with "
                   "`kijun user password LOGIN`")


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
