"""The measurement dashboard (業務の計測): process metrics of an event log, in the browser.

`GET /measure` shows, for kijun's own log (every review step kijun records)
or for a log imported from a file:

- the metrics of `kijun.measure.metrics` with Japanese labels and numbers as
  staff read them (93.7%, 1.2日, 3.4時間);
- trends per month as server-drawn SVG charts, each with its data table;
- a before/after comparison: split by a date (和暦 or 西暦) or by
  ``attribute=value``, each metric before, after, the difference and its
  bootstrap 95% confidence interval, with `kijun.measure.compare`'s summary;
- the hand-off matrix: how often a case passed from one person to another,
  for the N people with the most events (the rest as その他);
- CSV downloads (UTF-8 with BOM, so that Excel reads the Japanese) of the
  metrics, the months and the comparison, and each stored log as XES or
  OCEL 2.0 JSON.

Who sees it: admins, approvers, authors and viewers — the people who look
after how criteria and cases are handled (the DX office holds the viewer
role). Plain counter staff (staff only) do not: the page names colleagues
(resources) and how much each of them handles, which is for oversight, not
for the counter. Importing a log (`/measure/import`: XES ``.xes`` /
``.xes.gz``, OCEL 2.0 JSON / XML / SQLite) is for admins and approvers;
deleting one, for admins. Nothing is half-imported: a bad file is shown
back with its problem in Japanese, naming the line or the event.

Computing is done per request, on the stored events (a log of 262,200
events takes a few seconds); nothing about the log's content is logged.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
import unicodedata
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import polars as pl
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from kijun.criteria.normalise import parse_date
from kijun.measure import (
    BusinessHours,
    Comparison,
    EventLog,
    EventLogError,
    OcelError,
    XESError,
    compare,
    compute_metrics,
    dumps_ocel_json,
    flatten,
    metrics_by,
    prepare,
    read_ocel,
    read_xes,
    split_by_attribute,
    split_by_date,
    to_ocel,
    write_xes,
)
from kijun.measure.metrics import METRIC_INFO, Prepared
from kijun.store.events import (
    EventLogSummary,
    EventStoreError,
    delete_event_log,
    find_event_log,
    import_event_log,
    list_event_logs,
    load_event_log,
)
from kijun.web import charts
from kijun.web.app import error_page, render, root_of, session_for
from kijun.web.auth import User, require_role
from kijun.web.downloads import attachment, safe_filename

router = APIRouter(include_in_schema=False)

#: who may see the dashboard and download (admins hold every role)
VIEW_ROLES = ("approver", "author", "viewer")
#: who may import a log
IMPORT_ROLES = ("approver",)

#: an uploaded log larger than this is refused (413) unread
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: a compressed upload that would unpack to more than this is refused (413) unread
MAX_UNPACKED_BYTES = 400 * 1024 * 1024

TOP_CHOICES = (5, 10, 15, 20)
DEFAULT_TOP = 10
#: bootstrap resamples of the before/after comparison
RESAMPLES = 1000
#: the town's hours (8:30–17:15, Asia/Tokyo, holidays and 12/29–1/3 closed)
HOURS = BusinessHours()
TIMEZONE = ZoneInfo(HOURS.timezone)

DATE_ERROR = "日付を「令和8年4月1日」や「2026-04-01」の形で入力してください。"

#: metrics shown on the page, in groups
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("件数", ("cases", "events", "activities", "resources", "variants")),
    ("リードタイム（受付から完了まで、暦日）",
     ("lead_time_mean", "lead_time_median", "lead_time_p90")),
    ("リードタイム（開庁時間だけで数えた時間）",
     ("lead_time_business_mean", "lead_time_business_median", "lead_time_business_p90")),
    ("手戻り・差し戻し", ("first_time_right_rate", "rework_cases", "rework_events",
                          "round_trips", "return_rate", "self_loops")),
    ("引き継ぎ", ("handoffs", "handoffs_mean")),
    ("担当の集中", ("resource_hhi", "top3_resource_share", "role_hhi", "top3_role_share")),
    ("待ち時間・作業時間（開始時刻のあるイベント）",
     ("timed_events", "waiting_time_mean", "waiting_time_median", "waiting_time_p90",
      "service_time_mean", "service_time_median", "service_time_p90")),
)

#: the unit word after a count
COUNT_UNITS = {
    "events": "件", "cases": "件", "activities": "種類", "resources": "人", "variants": "種類",
    "rework_cases": "件", "rework_events": "件", "round_trips": "回", "self_loops": "回",
    "handoffs": "回", "timed_events": "件",
}

#: per month: the columns of the table and of the CSV's first columns
MONTH_COLUMNS = ("cases", "lead_time_median", "lead_time_business_median",
                 "first_time_right_rate", "return_rate", "handoffs_mean", "top3_resource_share")

# -- numbers as staff read them ------------------------------------------------------------------


def duration_ja(seconds: float, *, signed: bool = False) -> str:
    """1.2日, 3.4時間, 12分, 45秒 (the largest unit that is at least 1)."""
    size = abs(seconds)
    if size >= 86400:
        text = f"{size / 86400:,.1f}日"
    elif size >= 3600:
        text = f"{size / 3600:,.1f}時間"
    elif size >= 60:
        text = f"{size / 60:,.0f}分"
    else:
        text = f"{size:,.0f}秒"
    return _sign(seconds, signed) + text


def _sign(value: float, signed: bool) -> str:
    if value < 0:
        return "−"
    return "+" if signed and value > 0 else ("±" if signed else "")


def fmt_metric(name: str, value: float | int | None) -> str:
    """A metric's value for the page: 93.7%, 1.2日, 12.5時間, 0.84回, 8,577件."""
    if value is None:
        return "—"
    unit = METRIC_INFO[name].unit
    if unit == "seconds":
        return duration_ja(float(value))
    if unit == "business_seconds":
        # in hours of open office time (a business day is 8.75 hours), minutes when short
        hours = value / 3600
        return f"{hours:,.1f}時間" if hours >= 1 or value == 0 else f"{value / 60:,.0f}分"
    if unit in ("rate", "share"):
        return f"{value * 100:.1f}%"
    if unit == "per_case":
        return f"{value:,.2f}回"
    if unit == "index":
        return f"{value:.3f}"
    return f"{int(value):,}{COUNT_UNITS.get(name, '件')}"


def fmt_difference(name: str, value: float | int | None) -> str:
    """A difference (after − before): +1.2日, −5.2ポイント, +3件."""
    if value is None:
        return "—"
    unit = METRIC_INFO[name].unit
    if unit == "seconds":
        return duration_ja(float(value), signed=True)
    if unit == "business_seconds":
        return f"{_sign(value, True)}{abs(value) / 3600:,.1f}時間"
    if unit in ("rate", "share"):
        return f"{_sign(value, True)}{abs(value) * 100:.1f}ポイント"
    if unit == "per_case":
        return f"{_sign(value, True)}{abs(value):,.2f}回"
    if unit == "index":
        return f"{_sign(value, True)}{abs(value):.3f}"
    return f"{_sign(value, True)}{abs(int(value)):,}{COUNT_UNITS.get(name, '件')}"


def export_unit(name: str) -> tuple[str, float]:
    """The unit a CSV gives a metric in, and the factor from its stored value."""
    unit = METRIC_INFO[name].unit
    if unit in ("seconds", "business_seconds"):
        return "時間", 1 / 3600
    if unit in ("rate", "share"):
        return "%", 100.0
    if unit == "per_case":
        return "回", 1.0
    if unit == "index":
        return "", 1.0
    return COUNT_UNITS.get(name, "件"), 1.0


def export_value(name: str, value: float | int | None) -> float | int | None:
    if value is None:
        return None
    _, factor = export_unit(name)
    if isinstance(value, int) and factor == 1.0:
        return value
    return round(float(value) * factor, 6)


def label(name: str) -> str:
    return METRIC_INFO[name].label


def month_ja(month: str) -> str:
    """'2026-04' → '2026年4月'."""
    year, _, number = month.partition("-")
    return f"{year}年{int(number)}月" if number.isdigit() else month


# -- the dashboard's query ----------------------------------------------------------------------


@dataclass(slots=True)
class Entered:
    """What was typed into the dashboard's forms (shown back as typed)."""

    log: str = "kijun"
    since: str = ""
    until: str = ""
    split_date: str = ""
    split_attr: str = ""
    top: int = DEFAULT_TOP

    def query(self, **changes: Any) -> str:
        """The query string of this view (with `changes`), for links and downloads."""
        values = {"log": self.log, "since": self.since, "until": self.until,
                  "split_date": self.split_date, "split_attr": self.split_attr,
                  "top": self.top, **changes}
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


@dataclass(slots=True)
class Read:
    """The query, read; `errors` maps a field to its Japanese message."""

    since: dt.date | None = None
    until: dt.date | None = None
    split_date: dt.date | None = None
    split_attr: tuple[str, str] | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def since_at(self) -> dt.datetime | None:
        return _midnight(self.since)

    @property
    def until_at(self) -> dt.datetime | None:
        # まで: the day itself is in
        return _midnight(self.until + dt.timedelta(days=1)) if self.until else None


def _midnight(day: dt.date | None) -> dt.datetime | None:
    return dt.datetime.combine(day, dt.time(), tzinfo=TIMEZONE) if day else None


def read_query(entered: Entered) -> Read:
    out = Read()
    for name in ("since", "until", "split_date"):
        text = getattr(entered, name)
        if text:
            try:
                setattr(out, name, parse_date(text))
            except ValueError:
                out.errors[name] = DATE_ERROR
    if out.since and out.until and out.until < out.since:
        out.errors["until"] = "終わりの日は、始まりの日と同じか後の日にしてください。"
    if entered.split_attr:
        text = unicodedata.normalize("NFKC", entered.split_attr)
        name, eq, value = text.partition("=")
        if not eq or not name.strip():
            out.errors["split_attr"] = ("「属性名=値」の形で入力してください"
                                        "（例: department=総務課、channel=Internet）。")
        else:
            out.split_attr = (name.strip(), value.strip())
    if entered.split_date and entered.split_attr:
        out.errors["split_attr"] = ("日付と属性のどちらか一方で分けてください"
                                    "（両方は指定できません）。")
    return out


def _entered(log: str, since: str, until: str, split_date: str, split_attr: str,
             top: str) -> Entered:
    digits = unicodedata.normalize("NFKC", top).strip()
    chosen = int(digits) if digits.isdigit() else DEFAULT_TOP
    return Entered(log=(log or "kijun").strip()[:40], since=since.strip()[:40],
                   until=until.strip()[:40], split_date=split_date.strip()[:40],
                   split_attr=split_attr.strip()[:200],
                   top=chosen if chosen in TOP_CHOICES else DEFAULT_TOP)


# -- what the page shows ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MetricLine:
    name: str
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Figure:
    """A chart and the table with its numbers."""

    id: str
    title: str
    svg: Markup
    column: str
    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class ChangeLine:
    name: str
    label: str
    before: str
    after: str
    difference: str
    interval: str
    verdict: str


@dataclass(frozen=True, slots=True)
class Handoffs:
    """Hand-offs between the top people (row: from, column: to); `other` groups the rest."""

    people: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]
    total: int
    svg: Markup | None


@dataclass(slots=True)
class View:
    log: EventLogSummary
    metrics: dict[str, float | int | None]
    groups: list[tuple[str, list[MetricLine]]]
    counted_all: bool
    months: list[dict[str, Any]]
    figures: list[Figure]
    handoffs: Handoffs
    comparison: Comparison | None = None
    changes: list[ChangeLine] = field(default_factory=list)
    parts: tuple[str, str] = ("", "")
    part_cases: tuple[int, int] = (0, 0)


def build_view(summary: EventLogSummary, log: EventLog, read: Read, top: int) -> View:
    prepared = prepare(log, HOURS)
    metrics = compute_metrics(prepared)
    months = metrics_by(prepared, "month").to_dicts() if len(log) else []
    groups = [(title, [MetricLine(n, label(n), fmt_metric(n, metrics[n])) for n in names])
              for title, names in GROUPS]
    view = View(summary, metrics, groups, not prepared.complete_only, months,
                _figures(months), _handoffs(prepared, top))
    if not read.errors and (read.split_date or read.split_attr):
        _compare(view, log, read)
    return view


def _figures(months: list[dict[str, Any]]) -> list[Figure]:
    if not months:
        return []
    labels = [m["month"] for m in months]
    shown = [month_ja(m) for m in labels]
    short = [f"{m[2:4]}/{m[5:]}" for m in labels]  # 26/04 under the axis
    out = []

    def add(fid: str, title: str, column: str, values: Sequence[float | None],
            fmt: Callable[[float], str], kind: str = "line") -> None:
        draw = charts.bar_chart if kind == "bar" else charts.line_chart
        svg = draw(f"chart-{fid}", title, short, values, fmt)
        rows = tuple((s, "—" if v is None else fmt(v)) for s, v in zip(shown, values,
                                                                        strict=True))
        out.append(Figure(f"chart-{fid}", title, svg, column, rows))

    add("cases", "月ごとの案件数", "案件数", [float(m["cases"]) for m in months],
        lambda v: f"{v:,.0f}件", "bar")
    lead = [m["lead_time_median"] for m in months]
    biggest = max((v for v in lead if v is not None), default=0.0)
    scale, unit = ((86400.0, "日") if biggest >= 2 * 86400 else
                   (3600.0, "時間") if biggest >= 3600 else (60.0, "分"))
    add("lead", f"リードタイム（中央値）の推移（{unit}）", f"リードタイム（中央値、{unit}）",
        [None if v is None else v / scale for v in lead], lambda v: f"{v:,.1f}{unit}")
    for fid, name in (("ftr", "first_time_right_rate"), ("return", "return_rate")):
        add(fid, f"{label(name)}の推移（%）", f"{label(name)}（%）",
            [None if m[name] is None else m[name] * 100 for m in months],
            lambda v: f"{v:.1f}%")
    add("handoffs", "1件あたりの引き継ぎ回数の推移", "1件あたりの引き継ぎ回数",
        [m["handoffs_mean"] for m in months], lambda v: f"{v:,.2f}回")
    return out


OTHERS = "その他"


def _handoffs(p: Prepared, top: int) -> Handoffs:
    ev = p.events
    if ev.is_empty():
        return Handoffs((), (), 0, None)
    busiest = (ev.filter(pl.col("resource").is_not_null()).group_by("resource").len()
               .sort(["len", "resource"], descending=[True, False]).head(top)["resource"]
               .to_list())
    same = pl.col("_c") == pl.col("_c").shift(1)
    pairs = (ev.with_columns(_from=pl.when(same).then(pl.col("resource").shift(1)))
             .filter(pl.col("handoff"))
             .group_by("_from", "resource").len())
    index = {name: i for i, name in enumerate(busiest)}
    others = pairs.filter(~pl.col("_from").is_in(busiest) | ~pl.col("resource").is_in(busiest))
    people = tuple(busiest) + ((OTHERS,) if others.height else ())
    size = len(people)
    grid = [[0] * size for _ in range(size)]
    total = 0
    for source, target, count in pairs.iter_rows():
        i = index.get(source, size - 1)
        j = index.get(target, size - 1)
        grid[i][j] += int(count)
        total += int(count)
    counts = tuple(tuple(row) for row in grid)
    # shade by the named people's cells: the その他 row and column hold many people's
    named = max((grid[i][j] for i in range(len(busiest)) for j in range(len(busiest))),
                default=0)
    svg = (charts.heat_map("chart-matrix", "担当者間の引き継ぎ（行から列へ）", people, people,
                           counts, saturate_at=named or None) if total else None)
    return Handoffs(people, counts, total, svg)


def _compare(view: View, log: EventLog, read: Read) -> None:
    if read.split_date is not None:
        day = read.split_date
        before, after = split_by_date(log, day, HOURS.timezone)
        text = f"{day.year}年{day.month}月{day.day}日"
        labels = (f"変更前（{text}より前に始まった案件）", f"変更後（{text}以降に始まった案件）")
        split, kind, short = f"case start < {day.isoformat()}", "date", ("変更前", "変更後")
    else:
        assert read.split_attr is not None
        name, value = read.split_attr
        try:
            before, after = split_by_attribute(log, name, value)
        except ValueError:
            read.errors["split_attr"] = (f"属性「{name[:40]}」を持つ案件やイベントがありません。"
                                         "属性名を確かめてください。")
            return
        labels = (f"{name}が{value}でない案件", f"{name}が{value}の案件")
        split, kind, short = f"{name}={value}", "attr", (f"{name}≠{value}", f"{name}={value}")
    result = compare(before, after, hours=HOURS, resamples=RESAMPLES, split=split,
                     labels=short, split_kind=kind)
    view.comparison = result
    view.parts = labels
    view.part_cases = (before.cases.height, after.cases.height)
    for c in result.changes:
        if c.ci_low is None or c.ci_high is None:
            interval, verdict = "—", "—"
        else:
            interval = f"{fmt_difference(c.name, c.ci_low)} 〜 {fmt_difference(c.name, c.ci_high)}"
            verdict = "偶然とは考えにくい差" if c.significant else "偶然の範囲内"
        view.changes.append(ChangeLine(c.name, label(c.name), fmt_metric(c.name, c.before),
                                       fmt_metric(c.name, c.after),
                                       fmt_difference(c.name, c.difference), interval, verdict))


# -- the dashboard ------------------------------------------------------------------------------


def _load(request: Request, entered: Entered, read: Read
          ) -> tuple[list[EventLogSummary], EventLogSummary, EventLog]:
    with session_for(request) as session:
        logs = list_event_logs(session)
        chosen = find_event_log(session, entered.log)
        log = load_event_log(session, chosen.id, read.since_at, read.until_at)
    return logs, chosen, log


@router.get("/measure")
def dashboard(
    request: Request,
    log: str = "kijun",
    since: str = "",
    until: str = "",
    split_date: str = "",
    split_attr: str = "",
    top: str = str(DEFAULT_TOP),
    done: str | None = None,
    user: User = Depends(require_role(*VIEW_ROLES)),
) -> Response:
    entered = _entered(log, since, until, split_date, split_attr, top)
    read = read_query(entered)
    if "since" in read.errors or "until" in read.errors:
        # a period that cannot be read: the whole log, the error next to its field
        read.since = read.until = None
    logs, chosen, event_log = _load(request, entered, read)
    view = build_view(chosen, event_log, read, entered.top)
    return render(request, "measure.html", {
        "nav": "measure",
        "view": view,
        "logs": logs,
        "entered": entered,
        "errors": read.errors,
        "done": done,
        "top_choices": TOP_CHOICES,
        "can_import": user.has_role(*IMPORT_ROLES),
        "can_delete": user.is_admin,
        "month_ja": month_ja,
        "month_columns": [(n, label(n)) for n in MONTH_COLUMNS],
        "fmt_metric": fmt_metric,
        "metric_label": label,
        "hours": HOURS,
    }, status_code=422 if read.errors else 200)


# -- CSV ----------------------------------------------------------------------------------------

_FORMULA = re.compile(r"^[=+\-@\t\r]")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value  # a spreadsheet would run it as a formula
    return value


def csv_bytes(rows: Sequence[Sequence[Any]]) -> bytes:
    """CSV as Excel opens it: UTF-8 with a BOM, CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_response(rows: Sequence[Sequence[Any]], name: str, log: EventLogSummary) -> Response:
    return attachment(csv_bytes(rows), "text/csv; charset=utf-8",
                      f"kijun-{name}-{log.key}.csv")


def _header(name: str) -> str:
    unit, _ = export_unit(name)
    return f"{label(name)}（{unit}）" if unit else label(name)


def _csv_read(entered: Entered) -> Read:
    read = read_query(entered)
    for name in ("since", "until"):
        if name in read.errors:
            setattr(read, name, None)
    return read


def _csv_log(request: Request, log: str, since: str, until: str
             ) -> tuple[EventLogSummary, EventLog]:
    """The log (and period) a CSV download is of."""
    entered = _entered(log, since, until, "", "", "")
    _, chosen, event_log = _load(request, entered, _csv_read(entered))
    return chosen, event_log


@router.get("/measure/metrics.csv")
def metrics_csv(
    request: Request, log: str = "kijun", since: str = "", until: str = "",
    _user: User = Depends(require_role(*VIEW_ROLES)),
) -> Response:
    chosen, event_log = _csv_log(request, log, since, until)
    metrics = compute_metrics(prepare(event_log, HOURS))
    rows: list[list[Any]] = [["指標", "名前", "値", "単位", "表示"]]
    for name, value in metrics.items():
        unit, _ = export_unit(name)
        rows.append([label(name), name, export_value(name, value), unit,
                     fmt_metric(name, value)])
    return _csv_response(rows, "metrics", chosen)


@router.get("/measure/months.csv")
def months_csv(
    request: Request, log: str = "kijun", since: str = "", until: str = "",
    _user: User = Depends(require_role(*VIEW_ROLES)),
) -> Response:
    chosen, event_log = _csv_log(request, log, since, until)
    table = metrics_by(prepare(event_log, HOURS), "month")
    names = [c for c in table.columns if c != "month"]
    rows: list[list[Any]] = [["月", *(_header(n) for n in names)]]
    for row in table.iter_rows(named=True):
        rows.append([row["month"], *(export_value(n, row[n]) for n in names)])
    return _csv_response(rows, "months", chosen)


@router.get("/measure/compare.csv")
def compare_csv(
    request: Request, log: str = "kijun", since: str = "", until: str = "",
    split_date: str = "", split_attr: str = "",
    _user: User = Depends(require_role(*VIEW_ROLES)),
) -> Response:
    entered = _entered(log, since, until, split_date, split_attr, "")
    read = _csv_read(entered)
    if not (read.split_date or read.split_attr) or read.errors:
        return error_page(request, 422, "比較の条件が正しくありません",
                          "分ける日付か「属性名=値」を、ダッシュボードの比較の欄で入力して"
                          "ください。")
    _, chosen, event_log = _load(request, entered, read)
    view = View(chosen, {}, [], False, [], [], Handoffs((), (), 0, None))
    _compare(view, event_log, read)
    if view.comparison is None:
        return error_page(request, 422, "比較できません", read.errors.get("split_attr", ""))
    rows: list[list[Any]] = [
        ["指標", "名前", "単位", "変更前", "変更後", "差", "95%信頼区間（下限）",
         "95%信頼区間（上限）", "判定"]]
    for c in view.comparison.changes:
        unit, _ = export_unit(c.name)
        verdict = ("" if c.significant is None else
                   "偶然とは考えにくい差" if c.significant else "偶然の範囲内")
        rows.append([label(c.name), c.name, unit, export_value(c.name, c.before),
                     export_value(c.name, c.after), export_value(c.name, c.difference),
                     export_value(c.name, c.ci_low), export_value(c.name, c.ci_high), verdict])
    rows.append([])
    rows.append(["比較", view.parts[0], view.parts[1]])
    rows.append(["案件数", view.part_cases[0], view.part_cases[1]])
    rows.append(["ブートストラップ", f"{view.comparison.resamples}回",
                 f"乱数の種 {view.comparison.seed}"])
    rows.extend(["要約", line] for line in view.comparison.summary)
    return _csv_response(rows, "compare", chosen)


# -- exporting a stored log ---------------------------------------------------------------------


def _stored(request: Request, key: str) -> tuple[EventLogSummary, EventLog]:
    with session_for(request) as session:
        chosen = find_event_log(session, key)
        return chosen, load_event_log(session, chosen.id)


def _download(content: bytes, media_type: str, summary: EventLogSummary, suffix: str
              ) -> Response:
    return attachment(content, media_type, f"kijun-eventlog-{summary.key}.{suffix}",
                      f"{safe_filename(summary.name, 'eventlog')}_{summary.key}.{suffix}")


@router.get("/measure/logs/{key}/export.xes")
def export_xes(request: Request, key: str,
               _user: User = Depends(require_role(*VIEW_ROLES))) -> Response:
    summary, log = _stored(request, key)
    out = io.BytesIO()
    write_xes(log, out, timezone=HOURS.timezone)
    return _download(out.getvalue(), "application/xml; charset=utf-8", summary, "xes")


@router.get("/measure/logs/{key}/export.xes.gz")
def export_xes_gz(request: Request, key: str,
                  _user: User = Depends(require_role(*VIEW_ROLES))) -> Response:
    summary, log = _stored(request, key)
    out = io.BytesIO()
    write_xes(log, out, compress=True, timezone=HOURS.timezone)
    return _download(out.getvalue(), "application/gzip", summary, "xes.gz")


@router.get("/measure/logs/{key}/export.jsonocel")
def export_ocel(request: Request, key: str,
                _user: User = Depends(require_role(*VIEW_ROLES))) -> Response:
    summary, log = _stored(request, key)
    text = dumps_ocel_json(to_ocel(log))
    return _download(text.encode("utf-8"), "application/json", summary, "jsonocel")


# -- deleting a log -----------------------------------------------------------------------------


@router.post("/measure/logs/{log_id}/delete")
def delete_log(request: Request, log_id: int,
               user: User = Depends(require_role("admin"))) -> Response:
    with session_for(request) as session:
        try:
            delete_event_log(session, log_id, actor=user.login)
        except EventStoreError:
            return error_page(request, 409, "削除できません",
                              "kijun 自身のイベントログは削除できません。")
    root = root_of(request)
    return RedirectResponse(f"{root}/measure?done=deleted", status_code=303)


# -- importing a log ----------------------------------------------------------------------------

FILE_FIELD = "file"
NAME_FIELD = "name"
TYPE_FIELD = "object_type"
RESOURCE_FIELD = "resource"
LOCAL_FIELD = "local_time"

#: how a file is read, by its name's ending
XES_SUFFIXES = (".xes", ".xes.gz")
OCEL_SUFFIXES = (".jsonocel", ".json", ".xmlocel", ".xml", ".sqlite", ".sqlite3", ".db",
                 ".jsonocel.gz", ".json.gz", ".xmlocel.gz", ".xml.gz")
#: the file chooser's filter
ACCEPT = ".xes,.gz,.jsonocel,.json,.xmlocel,.xml,.sqlite,.sqlite3,.db"


@dataclass(slots=True)
class ImportEntered:
    name: str = ""
    object_type: str = ""
    resource: str = ""
    #: read times without an offset as Japan time (else they are an error)
    local_time: bool = False


@dataclass(frozen=True, slots=True)
class Problem:
    where: str | None
    message: str


class Refused(Exception):
    """The import stops here; nothing has been stored."""

    def __init__(self, *, errors: dict[str, str] | None = None,
                 problems: list[Problem] | None = None, title: str | None = None,
                 status_code: int = 422) -> None:
        super().__init__(title or "refused")
        self.errors = errors or {}
        self.problems = problems or []
        self.title = title
        self.status_code = status_code


@router.get("/measure/import")
def import_form(request: Request,
                _user: User = Depends(require_role(*IMPORT_ROLES))) -> Response:
    return _import_page(request, ImportEntered())


@router.post("/measure/import")
async def import_submit(request: Request,
                        user: User = Depends(require_role(*IMPORT_ROLES))) -> Response:
    form = await request.form()
    entered = ImportEntered(name=_text(form.get(NAME_FIELD))[:200],
                            object_type=_text(form.get(TYPE_FIELD))[:200],
                            resource=_text(form.get(RESOURCE_FIELD))[:400],
                            local_time=_text(form.get(LOCAL_FIELD)) == "1")
    upload = form.get(FILE_FIELD)
    try:
        kind, filename = _file_kind(upload)
        assert isinstance(upload, UploadFile)
        data = await _read_upload(upload)
        log_id = await run_in_threadpool(_import, request, user, kind, filename, data, entered)
    except Refused as r:
        return _import_page(request, entered, r)
    root = root_of(request)
    return RedirectResponse(f"{root}/measure?log={log_id}&done=imported", status_code=303)


def _import_page(request: Request, entered: ImportEntered,
                 refused: Refused | None = None) -> Response:
    return render(request, "measure_import.html", {
        "nav": "measure",
        "entered": entered,
        "errors": refused.errors if refused else {},
        "problems": refused.problems if refused else [],
        "problems_title": refused.title if refused else None,
        "accept": ACCEPT,
        "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
        "FILE_FIELD": FILE_FIELD, "NAME_FIELD": NAME_FIELD, "TYPE_FIELD": TYPE_FIELD,
        "RESOURCE_FIELD": RESOURCE_FIELD, "LOCAL_FIELD": LOCAL_FIELD,
    }, status_code=refused.status_code if refused else 200)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _basename(name: str) -> str:
    base = PureWindowsPath(PurePosixPath(name).name).name
    return "".join(ch for ch in base if ch.isprintable())[:200] or "file"


def _file_kind(upload: object) -> tuple[str, str]:
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise Refused(errors={FILE_FIELD: "取り込むファイルを選んでください。"})
    filename = _basename(upload.filename)
    lower = filename.lower()
    if lower.endswith(XES_SUFFIXES):
        return "xes", filename
    if lower.endswith(OCEL_SUFFIXES):
        return "ocel", filename
    raise Refused(errors={FILE_FIELD: (
        "取り込めるのは XES（.xes・.xes.gz）と OCEL 2.0（.jsonocel・.json・.xmlocel・.xml・"
        ".sqlite）のファイルです。")})


async def _read_upload(upload: UploadFile) -> bytes:
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise Refused(errors={FILE_FIELD: (
            f"ファイルが大きすぎます。{MAX_UPLOAD_BYTES // (1024 * 1024)}MBまでのファイルを"
            "選んでください（大きなログは kijun events import で取り込めます）。")},
            status_code=413)
    if not data.strip():
        raise Refused(errors={FILE_FIELD: "ファイルが空です。内容のあるファイルを選んでください。"})
    if data[:2] == b"\x1f\x8b":
        _check_unpacked(data)
    return data


def _check_unpacked(data: bytes) -> None:
    """Refuse a gzip file that unpacks to far more than any town's log (a gzip bomb)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    total = 0
    step = 1 << 20
    try:
        for at in range(0, len(data), step):
            chunk = data[at:at + step]
            while chunk:
                total += len(inflater.decompress(chunk, 1 << 22))
                if total > MAX_UNPACKED_BYTES:
                    raise Refused(errors={FILE_FIELD: (
                        "圧縮を展開すると大きすぎるため、読み込みません。"
                        "kijun events import で取り込んでください。")}, status_code=413)
                chunk = inflater.unconsumed_tail
    except zlib.error:
        return  # the reader says the gzip data is damaged, in its own words


def _import(request: Request, user: User, kind: str, filename: str, data: bytes,
            entered: ImportEntered) -> int:
    """Read the file, then store it in one transaction; returns the new log's id."""
    log = read_upload(kind, filename, data, entered)
    name = entered.name or _stem(filename)
    with session_for(request) as session:
        try:
            return import_event_log(session, log, name=name, source=filename, actor=user.login)
        except EventStoreError as e:
            raise Refused(problems=[Problem(None, _store_error_ja(e))],
                          title=_title(filename)) from None


def _stem(filename: str) -> str:
    name = filename
    for suffix in sorted((*XES_SUFFIXES, *OCEL_SUFFIXES), key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)] or filename
    return name


def read_upload(kind: str, filename: str, data: bytes, entered: ImportEntered) -> EventLog:
    """The uploaded file as an EventLog, or `Refused` with the problem in Japanese."""
    zone = HOURS.timezone if entered.local_time else None
    if kind == "xes":
        try:
            return read_xes(data, naive_timezone=zone)
        except XESError as e:
            raise Refused(problems=[xes_problem(e)], title=_title(filename)) from None
    suffix = "".join(PurePosixPath(filename.lower()).suffixes[-2:])
    with tempfile.TemporaryDirectory(prefix="kijun-ocel-") as folder:
        path = Path(folder) / ("upload" + (suffix if suffix.startswith(".") else ""))
        path.write_bytes(data)
        try:
            ocel = read_ocel(path, naive_timezone=zone)
        except OcelError as e:
            raise Refused(problems=[ocel_problem(e)], title=_title(filename)) from None
    types = [t.name for t in ocel.object_types]
    chosen = unicodedata.normalize("NFC", entered.object_type).strip()
    if not chosen:
        if len(types) != 1:
            raise Refused(errors={TYPE_FIELD: (
                "このファイルにはオブジェクトの種類が複数あります。案件として数える種類を"
                f"次から選んで入力してください：{'、'.join(types[:20]) or 'なし'}。"
                "ファイルはもう一度選んでください。")})
        chosen = types[0]
    elif chosen not in types:
        raise Refused(errors={TYPE_FIELD: (
            f"「{chosen[:60]}」という種類はこのファイルにありません。"
            f"次から選んでください：{'、'.join(types[:20]) or 'なし'}。")})
    keys = [k.strip() for k in re.split(r"[,、，]", unicodedata.normalize("NFC", entered.resource))
            if k.strip()]
    try:
        return flatten(ocel, chosen, resource=keys)
    except (OcelError, EventLogError) as e:
        raise Refused(problems=[Problem(None, f"案件の形に変換できません（原文: {e}）。")],
                      title=_title(filename)) from None


def _title(filename: str) -> str:
    return (f"ファイル「{filename}」を取り込めませんでした。何も保存していません。"
            "次の箇所を直してから、もう一度取り込んでください。")


def _store_error_ja(e: EventStoreError) -> str:
    text = str(e)
    if "no events" in text:
        return "イベントが1件もありません。"
    m = re.match(r"event (\d+) holds a NUL character", text)
    if m:
        return f"{m.group(1)}番目のイベントに保存できない文字（U+0000）があります。"
    if "longer than" in text:
        return "名前が長すぎます（200文字まで）。"
    return "保存できませんでした。"


_XES_WHERE = (
    (re.compile(r"^trace '(.*)' event #(\d+) \('(.*)'\)$", re.S),
     r"案件「\1」の\2番目のイベント（\3）"),
    (re.compile(r"^trace '(.*)' event #(\d+)$", re.S), r"案件「\1」の\2番目のイベント"),
    (re.compile(r"^trace #(\d+)$"), r"\1番目の案件（trace）"),
)

_XES_REASONS = tuple((re.compile(p, re.S), ja) for p, ja in (
    (r"^(.*) '(.*)': no time zone.*$",
     r"\1 の時刻「\2」にタイムゾーンがありません（例: 2025-04-01T09:00:00+09:00）。"
     r"日本時間の記録なら「タイムゾーンのない時刻を日本時間として読む」を選んでください"),
    (r"^(.*) '(.*)': unknown time zone.*$", r"\1 の時刻「\2」のタイムゾーンが読めません"),
    (r"^(.*) '(.*)': not an xs:dateTime$", r"\1 の値「\2」は日時の形ではありません"),
    (r"^an event without time:timestamp$", "イベントに時刻（time:timestamp）がありません"),
    (r"^an event without concept:name.*$", "イベントに作業名（concept:name）がありません"),
    (r"^a trace without concept:name.*$", "案件（trace）に案件番号（concept:name）がありません"),
    (r"^malformed XML: (.*)$", r"XML として正しくありません（\1）"),
    (r"^the log is not closed by </log>$", "ファイルが途中で終わっています（</log> がありません）"),
    (r"^the file is empty$", "ファイルが空です"),
    (r"^not an XES log.*$", "XES のイベントログではありません"),
    (r"^the gzip data is damaged.*$", "圧縮（gzip）データが壊れています"),
    (r"^case id (.*) is used by more than one trace.*$",
     r"案件番号 \1 が複数の案件（trace）に使われています"),
    (r"^DTD declarations are not supported$", "DTD 宣言には対応していません"),
    (r"^<(.*)> is not allowed here$", r"この位置に <\1> は置けません"),
))


def xes_problem(e: XESError) -> Problem:
    """An XES error in Japanese: where (line, case and event) and why."""
    parts = []
    if e.line is not None:
        parts.append(f"{e.line}行目")
    prefix = ", ".join(p for p in (f"line {e.line}" if e.line is not None else None, e.event)
                       if p)
    text = str(e)
    reason = text[len(prefix) + 2:] if prefix and text.startswith(prefix + ": ") else text
    if e.event:
        place = e.event
        for pattern, ja in _XES_WHERE:
            if pattern.match(place):
                place = pattern.sub(ja, place)
                break
        parts.append(place)
    return Problem("・".join(parts) or None, _translate(reason, _XES_REASONS))


_OCEL_REASONS = tuple((re.compile(p, re.S), ja) for p, ja in (
    (r"^malformed JSON: (.*)$", r"JSON として正しくありません（\1）"),
    (r"^not UTF-8 text.*$", "文字コードが UTF-8 ではありません"),
    (r"^'(.*)' is missing$", r"項目「\1」がありません"),
    (r"^unknown event type (.*)$", r"宣言されていないイベントの種類 \1 です"),
    (r"^unknown object type (.*)$", r"宣言されていないオブジェクトの種類 \1 です"),
    (r"^relationship to unknown object (.*)$", r"存在しないオブジェクト \1 への関係があります"),
    (r"^(event|object) id appears more than once$", "同じ ID が2回以上使われています"),
    (r"^.*has no time zone.*$", "時刻にタイムゾーンがありません"),
    (r"^not an OCEL 2\.0 log.*$",
     "kijun が読める OCEL 2.0 のログではありません（JSON・XML・SQLite）"),
    (r"^damaged gzip file.*$", "圧縮（gzip）データが壊れています"),
))


def ocel_problem(e: OcelError) -> Problem:
    """An OCEL error in Japanese: the place (JSON path, XML line, SQLite table), the item."""
    where = []
    if e.location:
        line = re.fullmatch(r"line (\d+)", e.location)
        table = re.fullmatch(r"table (.*)", e.location)
        where.append(f"{line.group(1)}行目" if line else
                     f"テーブル {table.group(1)}" if table else e.location)
    if e.item:
        item = re.sub(r"^event ", "イベント ", e.item)
        item = re.sub(r"^object ", "オブジェクト ", item)
        item = re.sub(r"^(イベント|オブジェクト) type ", r"\1の種類 ", item)
        where.append(item)
    return Problem("・".join(where) or None, _translate(e.reason, _OCEL_REASONS))


def _translate(reason: str, table: tuple[tuple[re.Pattern[str], str], ...]) -> str:
    reason = reason.strip()
    for pattern, ja in table:
        if pattern.match(reason):
            return pattern.sub(ja, reason) + "。"
    return f"読み込めない内容です（原文: {reason}）。"
