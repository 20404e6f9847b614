"""Import and export in the browser: DMN XML, kijun YAML and Excel workbooks.

`GET /import` shows an upload form to 基準作成者 and 管理者; `POST /import`
reads the file with the same library functions as `kijun import` and stores
its version with `save_criterion`, all or nothing:

- the file is dispatched by its suffix: .dmn / .xml (DMN 1.1–1.5), .yaml /
  .yml (kijun YAML: its newest version), .xlsx (docs/excel.md);
- what the file does not say (識別子, 施行日) is asked for in the form; the
  form's 識別子, 施行日 and 版 win over the file's;
- the version is always stored as a draft: publishing goes through review;
- an existing criterion keeps its name, 担当課 and test cases and only gains
  the version (or, when the number is one of its drafts, that draft takes the
  file's content); an author may import only into a criterion of their own
  department, and a new criterion belongs to the author's department;
- the version number is the form's 版, else the file's (unless that number is
  already published or retired), else the next free number;
- a bad file re-renders the form (422) listing every problem in Japanese —
  for Excel each sheet and cell, for DMN the element and the reason, for YAML
  the line and field — and nothing is stored. A file over `MAX_UPLOAD_BYTES`
  is refused with 413.

Any logged-in user may download a version as DMN (`…/export.dmn`), as an
Excel workbook (`…/export.xlsx`), or the criterion as kijun YAML
(`/criteria/{id}/export.yaml`, `?version=N` for one version and its test
cases). File names carry the criterion id (ASCII) and, RFC 5987-encoded, its
Japanese name.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from kijun.criteria.dmn.model import DmnError
from kijun.criteria.errors import CriteriaError, LoadError
from kijun.criteria.formats import dmn_import, excel
from kijun.criteria.formats.dmn import version_to_dmn
from kijun.criteria.formats.yaml import loads
from kijun.criteria.formats.yaml_export import criterion_to_yaml
from kijun.criteria.model import Criterion, TestCase, Version, VersionStatus
from kijun.criteria.normalise import nfkc, parse_date
from kijun.store import (
    ImmutableVersionError,
    NotFoundError,
    StoreError,
    VerificationError,
    get_criterion,
    save_criterion,
)
from kijun.web.app import error_page, render, root_of, session_for
from kijun.web.auth import User, ensure_can_edit, require_role
from kijun.web.downloads import attachment, safe_filename

router = APIRouter(include_in_schema=False)

#: an upload larger than this is refused (413) without being read as a criterion
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
#: an .xlsx is a zip: one that would unpack to more than this is refused (413) unopened
MAX_XLSX_UNPACKED_BYTES = 100 * 1024 * 1024

FILE_FIELD = "file"
ID_FIELD = "criterion"
FROM_FIELD = "effective_from"
VERSION_FIELD = "version"

#: file suffix → how it is read
KINDS = {".dmn": "dmn", ".xml": "dmn", ".yaml": "yaml", ".yml": "yaml", ".xlsx": "xlsx"}
KIND_JA = {"dmn": "DMN", "yaml": "YAML", "xlsx": "Excel"}

DMN_MEDIA_TYPE = "application/xml; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
YAML_MEDIA_TYPE = "application/yaml; charset=utf-8"

_ID = re.compile(r"[a-z0-9][a-z0-9-]*")

DATE_ERROR = "施行日を「令和8年4月1日」や「2026-04-01」の形で入力してください。"


# -- the form -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Entered:
    """What was typed into the form (the file cannot be shown again)."""

    criterion: str = ""
    effective_from: str = ""
    version: str = ""


@dataclass(frozen=True, slots=True)
class Given:
    """The form's values, read."""

    criterion_id: str | None = None
    effective_from: dt.date | None = None
    version: int | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in the file: where (a cell, an element, a line) and why, in Japanese."""

    where: str | None
    message: str


class Refused(Exception):
    """The import stops here and the form is shown again; nothing has been stored."""

    def __init__(
        self,
        *,
        errors: dict[str, str] | None = None,
        problems: list[Problem] | None = None,
        title: str | None = None,
        status_code: int = 422,
    ) -> None:
        super().__init__(title or "refused")
        self.errors = errors or {}
        self.problems = problems or []
        self.title = title
        self.status_code = status_code


@router.get("/import")
def import_form(
    request: Request, criterion: str | None = None,
    _user: User = Depends(require_role("author")),
) -> Response:
    return _form(request, Entered(criterion=(criterion or "").strip()))


@router.post("/import")
async def import_submit(
    request: Request, user: User = Depends(require_role("author"))
) -> Response:
    form = await request.form()
    entered = Entered(
        criterion=_text(form.get(ID_FIELD)),
        effective_from=_text(form.get(FROM_FIELD)),
        version=_text(form.get(VERSION_FIELD)),
    )
    upload = form.get(FILE_FIELD)
    try:
        given, kind, filename = _read_form(entered, upload)
        assert isinstance(upload, UploadFile)
        data = await _read_upload(upload)
        criterion_id, number, done = await run_in_threadpool(
            _import, request, user, kind, filename, data, given)
    except Refused as r:
        return _form(request, entered, r)
    root = root_of(request)
    return RedirectResponse(
        f"{root}/criteria/{quote(criterion_id)}?version={number}&done={done}", status_code=303)


def _form(request: Request, entered: Entered, refused: Refused | None = None) -> Response:
    return render(request, "import.html", {
        "nav": "import",
        "entered": entered,
        "errors": refused.errors if refused else {},
        "problems": refused.problems if refused else [],
        "problems_title": refused.title if refused else None,
        "accept": ",".join(KINDS),
        "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
        "FILE_FIELD": FILE_FIELD,
        "ID_FIELD": ID_FIELD,
        "FROM_FIELD": FROM_FIELD,
        "VERSION_FIELD": VERSION_FIELD,
    }, status_code=refused.status_code if refused else 200)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _read_form(entered: Entered, upload: object) -> tuple[Given, str, str]:
    """The form's values, the file's kind and its name; every field's error at once."""
    errors: dict[str, str] = {}
    kind, filename = "", ""
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors[FILE_FIELD] = "取り込むファイルを選んでください。"
    else:
        filename = _basename(upload.filename)
        kind = KINDS.get(PurePosixPath(filename.lower()).suffix, "")
        if not kind:
            errors[FILE_FIELD] = ("取り込めるのは DMN（.dmn・.xml）、YAML（.yaml・.yml）、"
                                  "Excel（.xlsx）のファイルです。")
    criterion_id = nfkc(entered.criterion) or None
    if criterion_id is not None and not _ID.fullmatch(criterion_id):
        errors[ID_FIELD] = ("識別子は英小文字・数字・ハイフンで入力してください"
                            "（例: shussan-iwaikin）。")
    start = None
    if entered.effective_from:
        try:
            start = parse_date(entered.effective_from)
        except ValueError:
            errors[FROM_FIELD] = DATE_ERROR
    number = None
    if entered.version:
        digits = nfkc(entered.version).removeprefix("第").removesuffix("版")
        if digits.isdigit() and int(digits) >= 1:
            number = int(digits)
        else:
            errors[VERSION_FIELD] = "版は1以上の整数で入力してください（例: 3）。"
    if errors:
        raise Refused(errors=errors)
    return Given(criterion_id, start, number), kind, filename


def _basename(name: str) -> str:
    """The file's own name (some browsers send a whole Windows path), for messages."""
    base = PureWindowsPath(PurePosixPath(name).name).name
    base = "".join(ch for ch in base if ch.isprintable())
    return base[:200] or "file"


async def _read_upload(upload: UploadFile) -> bytes:
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise Refused(
            errors={FILE_FIELD: f"ファイルが大きすぎます。{MAX_UPLOAD_BYTES // (1024 * 1024)}MB"
                                "までのファイルを選んでください。"},
            status_code=413,
        )
    if not data.strip():
        raise Refused(errors={FILE_FIELD: "ファイルが空です。内容のあるファイルを選んでください。"})
    return data


# -- importing ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _FileSays:
    """What the file itself says about where its version goes."""

    criterion_id: str | None
    has_effective_from: bool
    number: int | None
    #: False when the file's own problems come first (an Excel book without 「基準」)
    ask: bool = True
    #: a YAML file, already read
    yaml: Criterion | None = field(default=None)


def _import(
    request: Request, user: User, kind: str, filename: str, data: bytes, given: Given
) -> tuple[str, int, str]:
    """Read the file and store its version in one transaction: (criterion id, number, done)."""
    says = _file_says(kind, filename, data)
    criterion_id = given.criterion_id or says.criterion_id
    missing: dict[str, str] = {}
    if says.ask and not criterion_id:
        missing[ID_FIELD] = ("このファイルには判断基準の識別子が書かれていません。識別子を入力して"
                             "ください（既存の判断基準に取り込むときは、その識別子）。")
    if says.ask and given.effective_from is None and not says.has_effective_from:
        missing[FROM_FIELD] = "このファイルには施行日が書かれていません。施行日を入力してください。"
    if missing:
        raise Refused(errors=missing, title="ファイルに書かれていない項目を入力して、"
                                            "もう一度ファイルを選んで取り込んでください。")
    with session_for(request) as session:
        stored = _stored(session, criterion_id) if criterion_id else None
        if stored is not None:
            ensure_can_edit(user, stored.department)
        elif criterion_id and not _ID.fullmatch(criterion_id):
            raise Refused(errors={ID_FIELD: (
                f"ファイルに書かれた識別子「{criterion_id[:40]}」は使えません。英小文字・数字・"
                "ハイフンの識別子を入力してください（例: shussan-iwaikin）。")})
        number = _number(given.version, says.number, stored)
        # a new criterion belongs to the author's department (an admin's keeps the file's)
        department = None if user.is_admin else user.department
        try:
            imported = _build(kind, filename, data, says, criterion_id, number,
                              given.effective_from, department)
        except CriteriaError as e:
            raise Refused(problems=_problems(kind, filename, e),
                          title=_problems_title(kind, filename)) from None
        if stored is not None:
            # the criterion keeps its name, department and test cases: a file brings a version
            imported = replace(stored, versions=imported.versions)
        elif imported.department is None:
            imported = replace(imported, department=user.department)
        try:
            report = save_criterion(session, imported, actor=user.login)
        except (CriteriaError, StoreError) as e:
            raise Refused(problems=[Problem(None, _store_error_ja(e))],
                          title="取り込めませんでした。何も保存していません。") from None
    if number in report.created:
        done = "imported"
    elif number in report.updated:
        done = "import_updated"
    else:
        done = "import_unchanged"
    return imported.id, number, done


def _stored(session: Session, criterion_id: str) -> Criterion | None:
    try:
        return get_criterion(session, criterion_id)
    except NotFoundError:
        return None


def _number(given: int | None, from_file: int | None, stored: Criterion | None) -> int:
    """The version's number: the form's, else the file's if free (or a draft), else the next."""
    existing = {v.number: v for v in stored.versions} if stored is not None else {}
    if given is not None:
        v = existing.get(given)
        if v is not None and v.status is not VersionStatus.DRAFT:
            state = "公開" if v.status is VersionStatus.PUBLISHED else "廃止"
            raise Refused(errors={VERSION_FIELD: (
                f"第{given}版はすでに{state}されているため、内容を変えられません。"
                "版を空欄にすると、新しい版として取り込みます。")})
        return given
    if from_file is not None:
        v = existing.get(from_file)
        if v is None or v.status is VersionStatus.DRAFT:
            return from_file
    return max(existing, default=0) + 1


def _file_says(kind: str, filename: str, data: bytes) -> _FileSays:
    try:
        if kind == "dmn":
            meta = dmn_import.read_metadata(data)
            return _FileSays(meta.get("id") or None, bool(meta.get("effective_from")),
                             _positive(meta.get("version")))
        if kind == "xlsx":
            _check_unpacked_size(data, filename)
            meta = excel.read_metadata(data)
            ident = nfkc(meta.get("id", "")) or None
            return _FileSays(ident, bool(meta.get("effective_from")),
                             _positive(meta.get("version")), ask=bool(meta))
        c = loads(_yaml_text(data, filename), file=filename)
        newest = max(c.versions, key=lambda v: v.number)
        return _FileSays(c.id, True, newest.number, yaml=c)
    except CriteriaError as e:
        raise Refused(problems=_problems(kind, filename, e),
                      title=_problems_title(kind, filename)) from None


def _check_unpacked_size(data: bytes, filename: str) -> None:
    """Refuse a workbook that would unpack to far more than any criterion needs (a zip bomb)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            unpacked = sum(info.file_size for info in z.infolist())
    except zipfile.BadZipFile:
        return  # the Excel reader says so, in Japanese
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise Refused(
            problems=[Problem(None, "ブックを展開すると大きすぎるため、読み込みません。"
                                    "不要なシートや書式を削除して保存し直してください。")],
            title=_problems_title("xlsx", filename), status_code=413)


def _positive(text: str | None) -> int | None:
    digits = nfkc(text or "")
    return int(digits) if digits.isdigit() and int(digits) >= 1 else None


def _yaml_text(data: bytes, filename: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LoadError("not UTF-8 text", file=filename) from None


def _build(
    kind: str, filename: str, data: bytes, says: _FileSays, criterion_id: str | None,
    number: int, effective_from: dt.date | None, department: str | None,
) -> Criterion:
    """The criterion with the file's one version, stored as a draft numbered `number`."""
    draft = VersionStatus.DRAFT
    if kind == "dmn":
        c = dmn_import.criterion_from_dmn(data, dmn_import.DmnImportOptions(
            criterion_id=criterion_id, version=number, effective_from=effective_from,
            status=draft, department=department))
        if not _dmn_named(data):
            c = replace(c, name=PurePosixPath(filename).stem or c.id)
        return c
    if kind == "xlsx":
        return excel.criterion_from_workbook(data, excel.ExcelImportOptions(
            criterion_id=criterion_id, version=number, effective_from=effective_from,
            status=draft, department=department), file=filename)
    assert says.yaml is not None
    whole = says.yaml
    newest = max(whole.versions, key=lambda v: v.number)
    version = replace(newest, number=number, status=draft,
                      effective_from=effective_from or newest.effective_from)
    return replace(whole, id=criterion_id or whole.id, versions=(version,),
                   tests=_tests_of(whole, newest),
                   department=department or whole.department)


def _dmn_named(data: bytes) -> bool:
    try:
        return bool((ET.fromstring(data).get("name") or "").strip())
    except ET.ParseError:
        return False


def _tests_of(whole: Criterion, chosen: Version) -> tuple[TestCase, ...]:
    """The test cases decided under `chosen` (as if it were in force), or on no set day."""
    live = replace(whole, versions=tuple(
        replace(v, status=VersionStatus.PUBLISHED) if v.number == chosen.number else v
        for v in whole.versions))
    kept = []
    for t in whole.tests:
        if t.on is None:
            kept.append(t)
            continue
        found = live.version_on(t.on)
        if found is not None and found.number == chosen.number:
            kept.append(t)
    return tuple(kept)


# -- problems in Japanese -----------------------------------------------------------------------


def _problems_title(kind: str, filename: str) -> str:
    return (f"{KIND_JA.get(kind, '')}ファイル「{filename}」を取り込めませんでした。"
            "次の箇所を直してから、もう一度取り込んでください。何も保存していません。")


def _problems(kind: str, filename: str, e: CriteriaError) -> list[Problem]:
    if isinstance(e, excel.ExcelError):
        found = [Problem(p.where_ja, _excel_message(p.message_ja)) for p in e.problems]
        if e.more:
            found.append(Problem(None, f"ほかに{e.more}件の問題があります。"))
        return found
    if isinstance(e, LoadError):
        return [_yaml_problem(e)]
    if isinstance(e, DmnError):
        return [_dmn_problem(str(e))]
    return [Problem(None, f"判断基準として正しくありません（{e}）。")]


def _excel_message(text: str) -> str:
    """The library's hints name the CLI's options; here they are this form's fields."""
    return (text.replace("kijun import --criterion ID で指定", "取り込み画面の「識別子」に入力")
                .replace("kijun import --effective-from で指定", "取り込み画面の「施行日」に入力"))


_YAML_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), ja) for p, ja in (
        (r"^not UTF-8 text$", "文字コードが UTF-8 ではありません。UTF-8 で保存し直してください"),
        (r"^not valid YAML: (.*)$", r"YAML の書き方に誤りがあります（\1）"),
        (r"^the file is empty$", "ファイルが空です"),
        (r"^unknown field '(.*)' \(known: (.*)\)$", r"項目「\1」は使えません（使える項目: \2）"),
        (r"^required field '(.*)' is missing$", r"必須の項目「\1」がありません"),
        (r"^expected a mapping, got (.*)$", r"「項目: 値」の形が必要です（\1 になっています）"),
        (r"^expected a list, got (.*)$", r"リスト（- で始まる行）が必要です（\1 になっています）"),
        (r"^expected text, got (.*)$", r"文字が必要です（\1 になっています）"),
        (r"^expected a date.*$", "日付が必要です（例: 2024-10-01、令和6年10月1日）"),
        (r"^id must be lower-case.*$", "識別子は英小文字・数字・ハイフンで書いてください"),
        (r"^a criterion needs at least one version$", "版が1つもありません"),
        (r"^version must be a positive integer$", "版は1以上の整数で書いてください"),
        (r"^status must be .*$", "状態は draft・published・retired のどれかです"),
        (r"^unknown hit policy '(.*)' \(use one of (.*)\)$",
         r"ヒットポリシー「\1」は使えません（\2 のどれか）"),
        (r"^aggregation must be .*$", "集計は SUM・MIN・MAX・COUNT のどれかです"),
        (r"^type must be .*$", "型は number・string・boolean・date のどれかです"),
        (r"^output '(.*)' has no value and no default$",
         r"結果「\1」の値がなく、既定値もありません"),
        (r"^a test needs .*$", "テストケースには expect か exception: true が必要です"),
    )
)


def _yaml_problem(e: LoadError) -> Problem:
    where = f"ファイル「{e.file}」"
    if e.line is not None:
        where += f"の{e.line}行目"
    if e.field:
        where += f"（項目 {e.field}）"
    return Problem(where, _translate(e.reason, _YAML_REASONS))


_DMN_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.S), ja) for p, ja in (
        (r"^not well-formed XML: (.*)$", r"XML として正しくありません（\1）"),
        (r"^a DMN file's root must be <definitions>$",
         "DMN ファイルではありません（最上位の要素が <definitions> ではありません）"),
        (r"^has no decision logic;.*$", "判断のロジック（決定表）がありません"),
        (r"^has a (\w+) expression;.*$",
         r"判断のロジックが決定表ではありません（\1）。kijun の判断基準にできるのは決定表だけです"),
        (r"^imports between models:.*$", "他のモデルの読み込み（import）には対応していません"),
        (r"^business knowledge models:.*$",
         "ビジネス知識モデル（BKM）には対応していません。"
         "kijun の判断基準は決定表だけでできています"),
        (r"^decision services:.*$", "判断サービス（decision service）には対応していません"),
        (r"^the model has no decision$", "判断（decision）が1つもありません"),
        (r"^(.*) is not a constant;.*$",
         r"結果の値 \1 が定数ではありません。規則の結果には値を書いてください（式は使えません）"),
        (r"^(.*) is not a number$", r"\1 は数値ではありません"),
        (r"^(.*) is not a string$", r"\1 は文字列ではありません"),
        (r"^(.*) is not a boolean$", r"\1 は真偽値ではありません"),
        (r"^(.*) is not a date$", r"\1 は日付ではありません"),
        (r"^type '(.*)' is not supported.*$",
         r"型 \1 には対応していません（数値・文字列・真偽値・日付だけ）"),
        (r"^type '(.*)' is a collection or structure;.*$",
         r"型 \1 はリストまたは構造です。入力と結果はひとつの値にしてください"),
        (r"^no typeRef;.*$", "型（typeRef）が指定されていません"),
        (r"^input expression (.*) is not the name of an input data or a decision.*$",
         r"入力の式 \1 が入力データや判断の名前ではありません（計算する式は使えません）"),
        (r"^(.*): kijun allowed values are a list of literals.*$",
         r"選択肢 \1 は値の並び（\"a\", \"b\" の形）で書いてください"),
        (r"^unknown hit policy (.*)$", r"ヒットポリシー \1 は使えません"),
        (r"^unknown aggregation (.*)$", r"集計 \1 は使えません"),
        (r"^(\d+) input entries for (\d+) inputs$",
         r"条件のセルが\1個ありますが、入力は\2個です"),
        (r"^(\d+) output entries for (\d+) outputs$",
         r"結果のセルが\1個ありますが、結果は\2個です"),
        (r"^an element needs a name$", "名前（name）がありません"),
        (r"^a decision table needs at least one output$", "決定表に結果の列がありません"),
    )
)


def _dmn_problem(message: str) -> Problem:
    """`<decision id=… name=…>: <rule …> (rule 3): reason` → where (the elements) and why."""
    parts = message.split(": ")
    where: list[str] = []
    while len(parts) > 1 and (parts[0] == "DMN text" or parts[0].lstrip().startswith("<")):
        head = parts.pop(0)
        if head != "DMN text":
            where.append(_dmn_where(head))
    reason = ": ".join(parts)
    return Problem("要素 " + " › ".join(where) if where else None,
                   _translate(reason, _DMN_REASONS))


def _dmn_where(text: str) -> str:
    text = re.sub(r" \(rule (\d+)\)", r"（\1番目の規則）", text)
    text = re.sub(r" in model '([^']*)'", r"（モデル「\1」）", text)
    text = re.sub(r" output '([^']*)'", r" の結果「\1」", text)
    return text.replace(" in <", " › <")


def _translate(reason: str, table: tuple[tuple[re.Pattern[str], str], ...]) -> str:
    reason = reason.strip()
    for pattern, ja in table:
        if pattern.match(reason):
            return pattern.sub(ja, reason) + "。"
    return f"読み込めない内容です（原文: {reason}）。"


def _store_error_ja(e: Exception) -> str:
    if isinstance(e, ImmutableVersionError):
        return (f"第{e.number}版はすでに公開または廃止されているため、内容を変えられません。"
                "「版」を空欄にすると、新しい版として取り込みます。")
    if isinstance(e, VerificationError):
        return "検証で要修正の結果があるため、この版を公開の状態では保存できません。"
    text = str(e)
    if "overlap" in text or "take effect on" in text:
        return "施行期間がほかの版と重なります。施行日を確かめてください。"
    if isinstance(e, CriteriaError):
        return f"判断基準として正しくありません（原文: {text}）。"
    return "保存できませんでした。しばらくしてから、もう一度お試しください。"


# -- exporting ----------------------------------------------------------------------------------


@router.get("/criteria/{criterion_id}/versions/{number}/export.dmn")
def export_dmn(request: Request, criterion_id: str, number: int) -> Response:
    found = _version(request, criterion_id, number)
    if isinstance(found, Response):
        return found
    c, v = found
    text = version_to_dmn(c, v)
    return download(text.encode("utf-8"), DMN_MEDIA_TYPE, c, f"v{number}", "dmn",
                    f"第{number}版")


@router.get("/criteria/{criterion_id}/versions/{number}/export.xlsx")
def export_xlsx(request: Request, criterion_id: str, number: int) -> Response:
    found = _version(request, criterion_id, number)
    if isinstance(found, Response):
        return found
    c, v = found
    return download(excel.version_to_workbook(c, v), XLSX_MEDIA_TYPE, c, f"v{number}", "xlsx",
                    f"第{number}版")


@router.get("/criteria/{criterion_id}/export.yaml")
def export_yaml(request: Request, criterion_id: str, version: int | None = None) -> Response:
    """The whole criterion with its test cases; with `version`, that version and its tests."""
    if version is not None:
        found = _version(request, criterion_id, version)
        if isinstance(found, Response):
            return found
        c, v = found
        today = dt.date.today()
        tests = tuple(t for t in c.tests if c.version_on(t.on or today) is v)
        c = replace(c, versions=(v,), tests=tests)
        return download(criterion_to_yaml(c).encode("utf-8"), YAML_MEDIA_TYPE, c,
                        f"v{version}", "yaml", f"第{version}版")
    with session_for(request) as session:
        c = get_criterion(session, criterion_id)
    return download(criterion_to_yaml(c).encode("utf-8"), YAML_MEDIA_TYPE, c, None, "yaml",
                    None)


def _version(
    request: Request, criterion_id: str, number: int
) -> tuple[Criterion, Version] | Response:
    with session_for(request) as session:
        c = get_criterion(session, criterion_id)
    try:
        return c, c.version(number)
    except KeyError:
        return error_page(request, 404, "版が見つかりません",
                          f"「{c.name}」に第{number}版はありません。")


def download(content: bytes, media_type: str, c: Criterion, part: str | None, suffix: str,
             part_ja: str | None) -> Response:
    """A download named after the criterion: `ID-vN.ext` for any client, and
    `名称_第N版_ID.ext` (RFC 5987 `filename*`) for browsers, which prefer it."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", c.id) + (f"-{part}" if part else "")
    full = "_".join(x for x in (safe_filename(c.name, "criterion"), part_ja, c.id) if x)
    return attachment(content, media_type, f"{ascii_name}.{suffix}", f"{full}.{suffix}")
