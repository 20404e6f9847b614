"""XES (IEEE 1849-2016) event logs: a streaming reader and a writer.

``read_xes(path)`` reads a ``.xes`` or ``.xes.gz`` file (gzip is recognised
by its magic bytes) into an :class:`~kijun.measure.log.EventLog`:

- ``concept:name`` of a trace is the case id; of an event, the activity;
- ``time:timestamp`` the event's timestamp (required, with a time zone);
- ``org:resource``, ``org:role``, ``org:group`` the resource, role and
  department; ``lifecycle:transition`` the lifecycle;
- a ``date`` attribute ``start_timestamp`` (also ``time:start_timestamp`` or
  ``time:start``) the start of an activity with a duration;
- every other attribute is kept, typed and in order, for writing back.

How it reads. The file is decompressed 8 MB at a time (in a thread: zlib
lets go of the GIL) and cut after the last ``</trace>`` of the buffer, so
memory holds one block's text and the frames built so far, never the
document. Each piece is tokenised with Polars: every element starts at a
``<``, so the text is cut there into records and each record at its ``"``
into fields — a regular XES attribute element ``<string key="K"
value="V"/>`` becomes fields ``string key=``, ``K``, `` value=``, ``V``,
``/>``. Those are recognised in bulk; anything else (other quoting, extra XML
attributes, nested attributes, entities) takes a slower, general path
through Python regular expressions and a small tree builder. Attribute
values get XML's attribute-value normalisation and entity expansion either
way.

Malformed XML is an error naming its line, and nothing is returned. The
checks are the reader's own, made for XES's few shapes of tag: every tag
must be one of those shapes or parse as an XML tag (names, quoting, no
attribute twice); closing tags must match the element open at their depth;
one document element; no control characters, no bare ``&``, valid UTF-8 (or
the declared encoding), no text outside the elements. ``check_xml=True``
also runs expat over the whole document in a thread — a full XML 1.0
well-formedness check, about a third more time.

Timestamps must carry a time zone (``Z`` or ``±hh:mm``) unless
``naive_timezone`` is given; an unknown offset, a missing or unparsable
timestamp, an event without ``concept:name`` or a trace without a case id is
an error that names the trace, the event and the line.

``write_xes(log, path)`` writes a log back (gzip when the name ends in
``.gz``); reading the written file gives the same log.
"""

from __future__ import annotations

import codecs
import gc
import gzip
import io
import json
import queue
import re
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any, Protocol
from xml.parsers import expat
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import polars as pl

from kijun.measure.log import (
    ATTRIBUTE_TYPES,
    CASE_SCHEMA,
    EVENT_SCHEMA,
    Attribute,
    EventLog,
    LogMeta,
    decode_attributes,
    encode_attributes,
)

#: event attributes whose ``date`` value is the start of the activity, by priority
START_KEYS = ("start_timestamp", "time:start_timestamp", "time:start")

#: XES keys read into columns of the event frame
MAPPED_KEYS = {
    "concept:name": "activity",
    "time:timestamp": "timestamp",
    "org:resource": "resource",
    "org:role": "role",
    "org:group": "department",
    "lifecycle:transition": "lifecycle",
}

_BLOCK = 8 << 20  # bytes of decompressed XML per step (peak memory grows with it)
_PIECE = 64 << 10  # bytes per call to expat
_FIELDS = 7
_ELEMENTS = ATTRIBUTE_TYPES | {"values", "event", "trace", "log", "extension", "global",
                               "classifier"}
_NAME = pl.Enum(sorted(_ELEMENTS))
#: bytes XML 1.0 allows (all but the C0 controls other than tab, newline, carriage return)
_ALLOWED_BYTES = bytes(b for b in range(256) if b >= 0x20 or b in (0x09, 0x0A, 0x0D))
_SHAPES = {
    **{f"{t} key=": t for t in ATTRIBUTE_TYPES},
    **{f"{e}>": e for e in _ELEMENTS}, **{f"/{e}>": e for e in _ELEMENTS},
    **{f"{e}/>": e for e in _ELEMENTS},
}
_FIRST_TAG = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_TAG = re.compile(
    r"""\s*<(/?)([^\s/>]+)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(/?)>""", re.S)
_XML_ATTR = re.compile(r"""([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_XML_NAME = re.compile(r"[A-Za-z_\u00C0-\uFFFF][\w.:\u00B7\u00C0-\uFFFF-]*")
_REFERENCE = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|lt|gt|amp|quot|apos);")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_BARE_AMP = re.compile(r"&(?!#x[0-9A-Fa-f]+;|#[0-9]+;|lt;|gt;|amp;|quot;|apos;)")
_SPECIALS = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<!DOCTYPE[^\[>]*>", re.S)
_DATETIME = re.compile(
    r"(-?\d{4,})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"(Z|[+-]\d{2}:?\d{2})?")


class XESError(ValueError):
    """A log that cannot be read; ``line`` and ``event`` say where, when known."""

    def __init__(self, message: str, *, line: int | None = None,
                 event: str | None = None) -> None:
        where = []
        if line is not None:
            where.append(f"line {line}")
        if event is not None:
            where.append(event)
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.line = line
        self.event = event


# -- reading -------------------------------------------------------------------------------------


def read_xes(
    source: str | Path | IO[bytes] | bytes,
    *,
    naive_timezone: str | None = None,
    check_xml: bool = False,
) -> EventLog:
    """Read an XES log (plain or gzip) into an :class:`EventLog`, or raise :class:`XESError`.

    ``naive_timezone`` (e.g. ``"Asia/Tokyo"``) reads timestamps without an
    offset as local time there; without it they are an error. The reader's
    own checks reject malformed XES (see the module's docstring);
    ``check_xml=True`` also has expat check the whole document against
    XML 1.0, at about a third more time.
    """
    tz = None
    if naive_timezone is not None:
        try:
            tz = ZoneInfo(naive_timezone)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise XESError(f"unknown time zone {naive_timezone!r}") from e
    gc_was_on = gc.isenabled()
    gc.disable()  # the reader makes few cycles; a collection would walk every object
    try:
        with _open(source) as stream:
            return _Reader(tz).read(stream, _Validator() if check_xml else _NoValidator())
    finally:
        if gc_was_on:
            gc.enable()


class _Reads(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Writes(Protocol):
    def write(self, data: bytes, /) -> int: ...


class _Prefixed:
    """A stream with its first bytes read already (to sniff gzip) and put back."""

    def __init__(self, head: bytes, rest: _Reads) -> None:
        self.head, self.rest = head, rest

    def read(self, size: int = -1, /) -> bytes:
        if not self.head:
            return self.rest.read(size)
        if size < 0:
            data, self.head = self.head + self.rest.read(), b""
            return data
        data, self.head = self.head[:size], self.head[size:]
        if len(data) < size:
            data += self.rest.read(size - len(data))
        return data

    def seek(self, offset: int, /) -> object:
        raise io.UnsupportedOperation("seek")


@contextmanager
def _open(source: str | Path | IO[bytes] | bytes) -> Iterator[_Reads]:
    """The decompressed bytes of a path, a binary file or bytes (gzip by its magic number)."""
    with ExitStack() as stack:
        raw: _Reads
        if isinstance(source, bytes | bytearray):
            raw = io.BytesIO(bytes(source))
        elif isinstance(source, str | Path):
            try:
                raw = stack.enter_context(open(source, "rb"))
            except OSError as e:
                raise XESError(f"cannot open {source}: {e.strerror or e}") from e
        else:
            raw = source
        head = raw.read(2)
        stream = _Prefixed(head, raw)
        if head == b"\x1f\x8b":
            yield stack.enter_context(gzip.GzipFile(fileobj=stream, mode="rb"))
        else:
            yield stream


class _NoValidator:
    """Stands in for `_Validator` when only the reader's own checks are wanted."""

    error: XESError | None = None

    def feed(self, block: bytes) -> None:
        pass

    def finish(self) -> XESError | None:
        return None

    def abandon(self) -> XESError | None:
        return None


class _Validator:
    """Feeds the raw bytes to expat in a thread (overlapping Polars); keeps the first error."""

    _FINAL = b""

    def __init__(self) -> None:
        self.parser = expat.ParserCreate()
        self.error: XESError | None = None
        self.queue: list[bytes | None] = []
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def feed(self, block: bytes) -> None:
        with self.cond:
            while len(self.queue) >= 3 and self.error is None:  # bounded memory
                self.cond.wait()
            self.queue.append(block)
            self.cond.notify_all()

    def _run(self) -> None:
        while True:
            with self.cond:
                while not self.queue:
                    self.cond.wait()
                block = self.queue[0]
            if block is None:
                return
            if self.error is None:
                try:
                    # in small pieces: expat holds the GIL for as long as one call lasts
                    view = memoryview(block)
                    for at in range(0, len(block), _PIECE):
                        self.parser.Parse(view[at:at + _PIECE], False)
                    if block is self._FINAL:
                        self.parser.Parse(b"", True)
                except expat.ExpatError as e:
                    self.error = XESError(
                        f"malformed XML: {expat.ErrorString(e.code)} (column {e.offset + 1})",
                        line=e.lineno)
                except Exception as e:  # never leave the reader waiting on a dead thread
                    self.error = XESError(f"cannot check the XML: {e}")
            with self.cond:
                self.queue.pop(0)
                self.cond.notify_all()

    def _stop(self) -> XESError | None:
        with self.cond:
            self.queue.append(None)
            self.cond.notify_all()
        self.thread.join()
        return self.error

    def finish(self) -> XESError | None:
        """Parse to the end of the document; the first error, if any."""
        self.feed(self._FINAL)
        return self._stop()

    def abandon(self) -> XESError | None:
        """Check what was fed so far (not the end); the first error, if any."""
        return self._stop()


class _Prefetch:
    """Reads (and decompresses: zlib lets go of the GIL) the next blocks in a thread."""

    def __init__(self, stream: _Reads, size: int) -> None:
        self.stream, self.size = stream, size
        self.queue: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                item: bytes | BaseException = self.stream.read(self.size)
            except Exception as e:  # damaged gzip data, an I/O error
                item = e
            while not self.stop.is_set():
                try:
                    self.queue.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if not isinstance(item, bytes) or not item:
                return

    def read(self) -> bytes:
        item = self.queue.get()
        if isinstance(item, BaseException):
            if isinstance(item, gzip.BadGzipFile | EOFError | zlib.error):
                raise XESError(f"the gzip data is damaged: {item}") from item
            raise XESError(f"cannot read the file: {item}") from item
        return item

    def close(self) -> None:
        self.stop.set()
        self.thread.join()


@dataclass
class _Chunk:
    """One piece of the log (whole traces) and the line it starts on."""

    data: bytes
    first_line: int


@dataclass
class _Parts:
    events: list[pl.DataFrame] = field(default_factory=list)
    cases: list[pl.DataFrame] = field(default_factory=list)


class _Reader:
    def __init__(self, naive_tz: ZoneInfo | None) -> None:
        self.naive_tz = naive_tz
        self.meta = LogMeta(root=(), extensions=())
        self.parts = _Parts()
        self.n_events = 0
        self.n_traces = 0
        self.line = 1  # line number at which the next chunk starts
        self.depth = 0  # element depth at which the next chunk starts
        self.open_names: dict[int, str] = {}  # the elements open there, by depth
        self.decoder: codecs.IncrementalDecoder | None = None
        self.start_key: str | None = None
        self.closed_log = False
        self.opened_log = False

    # the stream --------------------------------------------------------------------------------

    def read(self, stream: _Reads, validator: _Validator | _NoValidator) -> EventLog:
        try:
            log = self._read(stream, validator)
        except XESError as e:
            error = validator.abandon()
            raise (error or e) from None
        except Exception as e:  # an unexpected failure on malformed input
            error = validator.abandon()
            if error is not None:
                raise error from None
            raise XESError(f"cannot read the log: {e}") from e
        error = validator.finish()
        if error is not None:
            raise error
        return log

    def _read(self, stream: _Reads, validator: _Validator | _NoValidator) -> EventLog:
        blocks = _Prefetch(stream, _BLOCK)
        try:
            return self._blocks(blocks, validator)
        finally:
            blocks.close()

    def _blocks(self, blocks: _Prefetch, validator: _Validator | _NoValidator) -> EventLog:
        buf = bytearray()
        first = True
        while True:
            block = blocks.read()
            if not block:
                break
            validator.feed(block)
            if validator.error is not None:
                raise validator.error
            if first:
                block = self._sniff_encoding(block)
                _check_root(block)
                first = False
            elif self.decoder is not None:
                block = self.decoder.decode(block).encode("utf-8")
            buf += block
            cut = buf.rfind(b"</trace>")
            if cut >= 0:
                end = cut + len(b"</trace>")
                self._body(bytes(buf[:end]))
                del buf[:end]
        if self.decoder is not None:
            buf += self.decoder.decode(b"", final=True).encode("utf-8")
        if first:
            raise XESError("the file is empty")
        self._body(bytes(buf))
        if not self.closed_log:
            raise XESError("the log is not closed by </log>", line=self.line)
        return self._finish()

    def _sniff_encoding(self, block: bytes) -> bytes:
        if block.startswith(codecs.BOM_UTF8):
            return block[3:]
        encoding = None
        if block.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        else:
            m = re.match(rb"""\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""", block)
            if m:
                encoding = m.group(1).decode("ascii")
        if encoding is None:
            return block
        try:
            if codecs.lookup(encoding).name in ("utf-8", "ascii"):
                return block
            self.decoder = codecs.getincrementaldecoder(encoding)()
        except LookupError as e:
            raise XESError(f"unknown encoding {encoding!r}", line=1) from e
        text = self.decoder.decode(block)
        text = re.sub(r"""^\ufeff?\s*<\?xml[^>]*\?>""", "", text, count=1)
        return text.encode("utf-8")

    # the body: traces, through Polars ----------------------------------------------------------

    def _body(self, data: bytes) -> None:
        if not data:
            return
        lines = data.count(b"\n")
        # ("!" and "?" first: a search for a rare byte is fast, for "<!" it is not)
        if (b"!" in data and b"<!" in data) or (b"?" in data and b"<?" in data):
            # comments, CDATA, processing instructions, a DOCTYPE without a subset:
            # dropped, their lines kept
            data = _SPECIALS.sub(lambda m: b"\n" * m.group().count(b"\n"), data)
            if b"<!" in data:
                raise XESError("DTD declarations are not supported", line=self.line)
        chunk = _Chunk(data, self.line)
        if data.translate(None, _ALLOWED_BYTES):
            at = re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]", data)
            assert at is not None
            raise XESError(f"malformed XML: the character U+{data[at.start()]:04X} is not "
                           "allowed", line=self.line + data.count(b"\n", 0, at.start()))
        try:
            self._chunk(chunk)
        except pl.exceptions.ComputeError as e:
            if "utf-8" not in str(e):
                raise
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as u:
                raise XESError("malformed XML: not UTF-8 text",
                               line=self.line + data.count(b"\n", 0, u.start)) from None
            raise
        self.line += lines

    def _chunk(self, chunk: _Chunk) -> None:
        raw = _records(chunk.data)
        plan = _token_plan(raw.lazy())
        odd = r"[\t\n\r&]"
        frames = pl.collect_all([
            *self._structure(plan.filter(pl.col("fast")).drop("fast", "text")),
            plan.filter(~pl.col("fast") & ~pl.col("text")).select("row").head(1),
            plan.select((pl.col("key").str.contains(odd)
                         | pl.col("value").str.contains(odd)).any()),
        ])
        slow, special = frames[-2:]
        if slow.height or special.item():
            # the general path: other quoting, extra XML attributes, entities, whitespace
            tokens = _tokens(raw, plan, chunk.data, chunk.first_line)
            frames = pl.collect_all(self._structure(tokens.lazy()))
        self._take(frames[:10], chunk)

    def _structure(self, tokens: pl.LazyFrame) -> list[pl.LazyFrame]:
        """Depth, owner and kind of every tag; the rows each later step needs."""
        name, close, selfclose = pl.col("name"), pl.col("close"), pl.col("selfclose")
        level, l1, l2 = pl.col("level"), pl.col("l1"), pl.col("l2")
        opening = ~close & ~selfclose
        t = tokens.with_columns(
            delta=opening.cast(pl.Int32) - close.cast(pl.Int32),
        ).with_columns(
            # the element's depth: 0 for the log, 1 for a trace, 2 for an event, 3 for its
            # attributes; a chunk starts at the depth where the last one ended
            level=(pl.col("delta").cum_sum() - pl.col("delta") + self.depth
                   - close.cast(pl.Int32)),
        ).with_columns(
            trace_no=((level == 1) & (name == "trace") & ~close).cum_sum()
            + self.n_traces - 1,
            event_no=((level == 2) & (name == "event") & ~close).cum_sum()
            + self.n_events - 1,
            l1=pl.when((level == 1) & ~close).then(name).forward_fill(),
            l2=pl.when((level == 2) & ~close).then(name).forward_fill(),
            simple=selfclose & name.is_in(list(ATTRIBUTE_TYPES)),
            # the element a closing tag should close: the last one opened at its depth,
            # in this chunk or an earlier one
            opened=pl.when(opening).then(name).forward_fill().over("level").fill_null(
                pl.col("level").replace_strict(self.open_names, default=None,
                                               return_dtype=_NAME)),
        ).with_columns(
            kind=pl.when(level <= 0).then(
                pl.when(close & (name == "log")).then(pl.lit(_CLOSE_LOG))
                .when(name == "log").then(pl.lit(_OPEN_LOG))
                .otherwise(pl.lit(_OTHER)))
            .when((l1 != "trace").fill_null(True)).then(pl.lit(_COMPLEX))
            .when(level == 1).then(pl.when(close).then(pl.lit(_OTHER)).otherwise(
                pl.lit(_TRACE)))
            .when(level == 2).then(
                pl.when(name == "event").then(pl.when(close).then(pl.lit(_OTHER))
                                              .otherwise(pl.lit(_EVENT)))
                .when(pl.col("simple")).then(pl.lit(_TRACE_ATTR))
                .otherwise(pl.lit(_TRACE_COMPLEX)))
            .when(l2 == "event").then(
                pl.when((level == 3) & pl.col("simple")).then(pl.lit(_EVENT_ATTR))
                .otherwise(pl.lit(_EVENT_COMPLEX)))
            .otherwise(pl.lit(_TRACE_COMPLEX)).cast(pl.Int8),
        )
        kind = pl.col("kind")
        return [
            t.filter(_wrong_place() | (close & (name != pl.col("opened")).fill_null(True)))
            .head(1),
            t.filter(kind == _EVENT_ATTR),
            t.filter(kind == _TRACE_ATTR),
            t.filter(kind.is_in([_COMPLEX, _TRACE_COMPLEX, _EVENT_COMPLEX])),
            t.filter(kind == _TRACE).select("trace_no", "row"),
            t.filter(kind == _EVENT).select("event_no", "trace_no", "row"),
            t.filter(kind == _CLOSE_LOG).select("row"),
            t.filter(kind == _OPEN_LOG).select("xattrs", "row"),
            t.select(pl.col("delta").sum()),
            t.filter(opening).group_by("level").agg(pl.col("name").last()),
        ]

    def _take(self, frames: list[pl.DataFrame], chunk: _Chunk) -> None:
        (wrong, ev_simple, tr_simple, complex_rows, traces, events, closing, opening_log,
         depth, opened) = frames
        self.depth += int(depth.item() or 0)
        # what stays open for the next chunk (the log, usually)
        self.open_names = {
            level: name for level, name in
            [*self.open_names.items(), *((lv, str(nm)) for lv, nm in opened.iter_rows())]
            if level < self.depth}
        if opening_log.height and (self.opened_log or self.closed_log):
            raise XESError("malformed XML: a second document element",
                           line=_line_of(chunk, int(opening_log["row"][0])))
        if closing.height and self.closed_log:
            raise XESError("malformed XML: a second </log>",
                           line=_line_of(chunk, int(closing["row"][0])))
        if opening_log.height:
            self.opened_log = True
            xattrs = opening_log["xattrs"][0]
            self.meta = replace(self.meta, root=tuple(json.loads(xattrs).items())
                                if xattrs else ())
        if wrong.height:
            r = wrong.row(0, named=True)
            line = _line_of(chunk, r["row"])
            if r["close"] and r["level"] >= 0:
                expected = f"</{r['opened']}>" if r["opened"] else "no closing tag"
                raise XESError(f"malformed XML: </{r['name']}> where {expected} belongs",
                               line=line)
            raise XESError(f"<{r['name']}> is not allowed here", line=line)
        if closing.height:
            self.closed_log = True
        ev_complex, tr_complex = self._complex(complex_rows, chunk)
        self.n_traces += traces.height
        self.n_events += events.height
        cases = self._cases(traces, tr_simple, tr_complex, chunk)
        self.parts.cases.append(cases)
        if events.height:
            self.parts.events.append(
                self._events(events, ev_simple, ev_complex, cases, chunk))

    def _complex(
        self, rows: pl.DataFrame, chunk: _Chunk
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Nested attributes and log-level elements: built in Python (they are rare)."""
        ev: list[tuple[int, int, str, str, str | None, str | None]] = []
        tr: list[tuple[int, int, str, str, str | None, str | None]] = []
        if rows.height:
            stack: list[tuple[dict[str, Any], list[Attribute]]] = []
            for r in rows.iter_rows(named=True):
                if r["close"]:
                    node, kids = stack.pop()
                    if node["name"] == "values":  # XES 2.0 <list><values>…</values></list>
                        if stack:
                            stack[-1][1].extend(kids)
                        continue
                    self._attach(_make_attribute(node, kids), node, stack, ev, tr)
                    continue
                if r["selfclose"]:
                    self._attach(_make_attribute(r, []), r, stack, ev, tr)
                else:
                    stack.append((r, []))
        schema = {"event_no": pl.Int64, "row": pl.Int64, "key": pl.String,
                  "fragment": pl.String, "type": pl.String, "value": pl.String}
        ev_frame = pl.DataFrame(ev, schema=schema, orient="row")
        tr_frame = pl.DataFrame(tr, schema=schema, orient="row").rename(
            {"event_no": "trace_no"})
        return ev_frame, tr_frame

    def _attach(self, a: Attribute | None, node: dict[str, Any],
                stack: list[tuple[dict[str, Any], list[Attribute]]],
                ev: list[tuple[int, int, str, str, str | None, str | None]],
                tr: list[tuple[int, int, str, str, str | None, str | None]]) -> None:
        if stack:
            parent_kids = stack[-1][1]
            if a is not None:
                parent_kids.append(a)
            return
        level, name = node["level"], node["name"]
        if node["l1"] != "trace" or level <= 1:
            self._log_level(node, a)
            return
        if a is None:
            return
        row = (node["row"], a.key, _fragment(a), a.type, a.value)
        if node["l2"] == "event" and level >= 3:
            ev.append((node["event_no"], *row))
        elif name != "event":
            tr.append((node["trace_no"], *row))

    def _log_level(self, node: dict[str, Any], a: Attribute | None) -> None:
        name = node["name"]
        attrs = tuple(json.loads(node["xattrs"]).items()) if node.get("xattrs") else ()
        if name == "log":
            return
        if name == "extension":
            self.meta = replace(self.meta, extensions=(*self.meta.extensions, attrs))
        elif name == "classifier":
            self.meta = replace(self.meta, classifiers=(*self.meta.classifiers, attrs))
        elif name == "global":
            scope = dict(attrs).get("scope", "event")
            kids = a.children if a is not None else ()
            self.meta = replace(self.meta, globals=(*self.meta.globals, (scope, kids)))
        elif a is not None:
            self.meta = replace(self.meta, attributes=(*self.meta.attributes, a))

    def _cases(self, traces: pl.DataFrame, simple: pl.DataFrame, complex_: pl.DataFrame,
               chunk: _Chunk) -> pl.DataFrame:
        attrs = pl.concat([
            simple.select(
                pl.col("trace_no").cast(pl.Int64), pl.col("row").cast(pl.Int64), "key",
                _fragment_expr().alias("fragment"),
                pl.col("name").cast(pl.String).alias("type"), "value"),
            complex_,
        ]).sort("row")
        rest = (attrs.filter(pl.col("key") != "concept:name")
                .group_by("trace_no", maintain_order=True)
                .agg(("{" + pl.col("fragment").str.join(",") + "}").alias("attributes")))
        cases = traces.select(pl.col("trace_no").cast(pl.Int64), "row")
        first, n = (int(cases["trace_no"][0]), cases.height) if cases.height else (0, 0)
        names = attrs.filter(pl.col("key") == "concept:name").select(
            pl.col("trace_no").alias("no"), pl.col("value").alias("case"))
        cases = cases.with_columns(*_spread(names, first, n, "case"),
                                   *_spread(rest.rename({"trace_no": "no"}), first, n,
                                            "attributes"))
        missing = cases.filter(pl.col("case").is_null())
        if missing.height:
            r = missing.row(0, named=True)
            raise XESError("a trace without concept:name (its case id)",
                           line=_line_of(chunk, r["row"]), event=f"trace #{r['trace_no'] + 1}")
        return cases.select("case", pl.col("trace_no").alias("position"), "attributes")

    def _events(self, events: pl.DataFrame, simple: pl.DataFrame, complex_: pl.DataFrame,
                cases: pl.DataFrame, chunk: _Chunk) -> pl.DataFrame:
        parts = [simple.select(
            pl.col("event_no").cast(pl.Int64), pl.col("row").cast(pl.Int64), "key",
            pl.lit(None, pl.String).alias("fragment"),
            pl.col("name").cast(pl.String).alias("type"), "value")]
        if complex_.height:
            parts.append(complex_)
        attrs = pl.concat(parts).sort("row") if len(parts) > 1 else parts[0]
        if self.start_key is None:
            found = set(attrs.filter(pl.col("key").is_in(list(START_KEYS))
                                     & (pl.col("type") == "date"))["key"].unique())
            self.start_key = next((k for k in START_KEYS if k in found), None)
        start_key = self.start_key
        is_start = ((pl.col("key") == start_key) & (pl.col("type") == "date")
                    if start_key else pl.lit(False))
        attrs = attrs.with_columns(
            column=pl.when(is_start).then(pl.lit(_COLUMNS.index("start"), pl.Int8)).otherwise(
                pl.col("key").replace_strict(_KEY_CODES, default=None, return_dtype=pl.Int8)))
        frame = events.select(pl.col("event_no").cast(pl.Int64),
                              pl.col("trace_no").cast(pl.Int64), "row")
        # events are numbered consecutively from `first`, attribute rows come in file order
        first, n = int(frame["event_no"][0]), frame.height
        spread_columns: list[pl.Series] = []
        for code, col in enumerate(_COLUMNS):
            sel = attrs.filter(pl.col("column") == code).select(
                pl.col("event_no").alias("no"), pl.col("value").alias(col),
                pl.col("row").alias(f"{col}_row"))
            spread_columns += _spread(sel, first, n, col, f"{col}_row")
        free = (attrs.filter(pl.col("column").is_null())
                .with_columns(pl.coalesce("fragment", _fragment_expr(pl.col("type"))))
                .group_by("event_no", maintain_order=True)
                .agg(("{" + pl.col("fragment").str.join(",") + "}").alias("attributes")))
        spread_columns += _spread(free.rename({"event_no": "no"}), first, n, "attributes")
        # the chunk's traces are numbered consecutively too
        case_at = frame["trace_no"] - int(cases["position"][0])
        frame = frame.with_columns(*spread_columns, cases["case"].gather(case_at))

        def locate(i: int, at: str = "row") -> tuple[int, str]:
            r = frame.row(i, named=True)
            n = r["event_no"] - frame.filter(pl.col("trace_no") == r["trace_no"])[
                "event_no"].min() + 1
            row = r.get(at)
            return (_line_of(chunk, int(row if row is not None else r["row"])),
                    f"trace {r['case']!r} event #{n}"
                    + (f" ({r['activity']!r})" if r["activity"] is not None else ""))

        missing = frame.filter(pl.col("activity").is_null())
        if missing.height:
            line, where = locate(frame["event_no"].search_sorted(missing["event_no"][0]))
            raise XESError("an event without concept:name (its activity)",
                           line=line, event=where)
        missing = frame.with_row_index("i").filter(pl.col("timestamp").is_null())
        if missing.height:
            line, where = locate(missing["i"][0])
            raise XESError("an event without time:timestamp", line=line, event=where)
        ts = _parse_timestamps(frame["timestamp"], self.naive_tz,
                               lambda i: locate(i, "timestamp_row"), "time:timestamp")
        start = _parse_timestamps(frame["start"], self.naive_tz,
                                  lambda i: locate(i, "start_row"), start_key or "start")
        return frame.select(
            "case", "activity", ts.alias("timestamp"), start.alias("start"), "resource",
            "role", "department", "lifecycle", pl.col("event_no").alias("position"),
            "attributes")

    def _finish(self) -> EventLog:
        if self.parts.cases:
            cases = pl.concat(self.parts.cases).select(
                pl.col(c).cast(d) for c, d in CASE_SCHEMA.items())
        else:
            cases = pl.DataFrame(schema=CASE_SCHEMA)
        dup = cases.filter(pl.col("case").is_duplicated())
        if dup.height:
            raise XESError(f"case id {dup['case'][0]!r} is used by more than one trace "
                           f"(traces #{dup['position'][0] + 1} and #{dup['position'][1] + 1})")
        if self.parts.events:
            events = pl.concat(self.parts.events).select(
                pl.col(c).cast(d) for c, d in EVENT_SCHEMA.items())
        else:
            events = pl.DataFrame(schema=EVENT_SCHEMA)
        meta = replace(self.meta, start_key=self.start_key)
        return EventLog(events, cases, meta)


_OTHER, _TRACE, _EVENT, _TRACE_ATTR, _EVENT_ATTR = 0, 1, 2, 3, 4
_COMPLEX, _TRACE_COMPLEX, _EVENT_COMPLEX, _CLOSE_LOG, _OPEN_LOG = 5, 6, 7, 8, 9


def _wrong_place() -> pl.Expr:
    """Elements where XES does not allow them (by depth: log 0, trace 1, event 2 …)."""
    level, name, l1 = pl.col("level"), pl.col("name"), pl.col("l1")
    return (
        ((level == 1) & ~name.is_in(["trace", "extension", "global", "classifier",
                                     *ATTRIBUTE_TYPES]))
        | ((level == 2) & (l1 == "trace") & ~name.is_in(["event", *ATTRIBUTE_TYPES]))
        | ((level >= 3) & ~name.is_in([*ATTRIBUTE_TYPES, "values"]))
        | ((level == 0) & (name != "log"))
        | (level < 0))


_COLUMNS = ("activity", "timestamp", "start", "resource", "role", "department", "lifecycle")
_KEY_CODES = {key: _COLUMNS.index(col) for key, col in MAPPED_KEYS.items()}


def _spread(sel: pl.DataFrame, first: int, n: int, *columns: str) -> list[pl.Series]:
    """Columns of ``sel`` (rows numbered ``no``, ascending) laid out for rows first … first+n-1.

    The last row wins where a number repeats; numbers not in ``sel`` get null. (A gather of
    strings, not Series.scatter: Polars 2.1 miscounts n_unique on scattered strings.)
    """
    if sel.height and (sel["no"].diff() == 0).any():
        sel = sel.unique("no", keep="last", maintain_order=True)
    where = pl.repeat(None, n, dtype=pl.Int64, eager=True).scatter(
        sel["no"] - first, pl.int_range(sel.height, dtype=pl.Int64, eager=True))
    return [sel[c].gather(where).alias(c) for c in columns]


def _check_root(block: bytes) -> None:
    """A log's first element must be <log> (possibly with a prefix)."""
    head = _SPECIALS.sub(b"", block[:1 << 16])
    m = _FIRST_TAG.search(head)
    if m is not None and m.group(1).rpartition(b":")[2] != b"log":
        name = m.group(1).decode("utf-8", "replace")
        raise XESError(f"not an XES log: the document element is <{name}>", line=1)


def _make_attribute(node: dict[str, Any], kids: list[Attribute]) -> Attribute | None:
    name = node["name"]
    if name == "values":
        return None
    if name not in ATTRIBUTE_TYPES:
        return Attribute(name, "", None, tuple(kids)) if name == "global" else None
    return Attribute(name, node["key"] or "", node["value"], tuple(kids))


def _fragment(a: Attribute) -> str:
    """``"key":value`` of one attribute, as inside the JSON object of its owner."""
    text = encode_attributes([a])
    assert text is not None
    return text[1:-1]


def _json_string(e: pl.Expr) -> pl.Expr:
    return ('"' + e.str.replace_all("\\", "\\\\", literal=True)
            .str.replace_all('"', '\\"', literal=True)
            .str.replace_all("\n", "\\n", literal=True)
            .str.replace_all("\r", "\\r", literal=True)
            .str.replace_all("\t", "\\t", literal=True) + '"')


def _fragment_expr(type_: pl.Expr | None = None) -> pl.Expr:
    """``"key":value`` JSON for simple attributes (a string, or {"type": "lexical"})."""
    t = (type_ if type_ is not None else pl.col("name")).cast(pl.String)
    value = pl.when(t == "string").then(_json_string(pl.col("value"))).otherwise(
        '{"' + t + '":' + _json_string(pl.col("value")) + "}")
    return _json_string(pl.col("key")) + ":" + value


# -- tokens -------------------------------------------------------------------------------------


def _records(data: bytes) -> pl.DataFrame:
    """Every "<" starts a tag (comments and CDATA are gone; "<" cannot stand in a value):
    records end at "<", fields at '"'."""
    return pl.read_csv(
        io.BytesIO(data), has_header=False, separator='"', quote_char=None, eol_char="<",
        schema={f"c{i}": pl.String for i in range(_FIELDS)}, missing_columns="insert",
        truncate_ragged_lines=True, empty_string_is_null=False,
    ).with_row_index("row")


def _token_plan(raw: pl.LazyFrame) -> pl.LazyFrame:
    """One row per record: row, name, close, selfclose, key, value, xattrs, fast, text.

    ``fast`` marks the tags recognised here; the others (``text`` aside) need `_tokens`.
    """
    c = [pl.col(f"c{i}") for i in range(_FIELDS)]
    h, t2, t4 = pl.col("h"), pl.col("t2"), pl.col("t4")
    attr, kv, k_only = pl.col("attr"), pl.col("kv"), pl.col("k")
    return raw.with_columns(
        h=c[0].str.strip_chars_end(),
        t2=c[2].str.strip_chars_end(),
        t4=c[4].str.strip_chars_end(),
    ).with_columns(
        # the few shapes a tag's first field takes: "string key=", "event>", "/trace>" …
        name=h.replace_strict(_SHAPES, default=None, return_dtype=_NAME),
        attr=h.str.ends_with(" key="),
    ).with_columns(
        kv=attr & (c[2] == " value=") & ((t4 == "/>") | (t4 == ">")) & (c[5] == ""),
        k=attr & ((t2 == "/>") | (t2 == ">")) & (c[3] == ""),
    ).select(
        "row", "name",
        close=h.str.starts_with("/"),
        selfclose=pl.when(kv).then(t4 == "/>").when(k_only).then(t2 == "/>")
        .otherwise(h.str.ends_with("/>")),
        key=pl.when(kv | k_only).then(c[1]),
        value=pl.when(kv).then(c[3]),
        xattrs=pl.lit(None, pl.String),
        fast=(kv | k_only | ~attr) & pl.col("name").is_not_null(),
        text=pl.col("row") == 0,  # what comes before the first "<"
    )


def _tokens(raw: pl.DataFrame, plan: pl.LazyFrame, data: bytes,
            first_line: int) -> pl.DataFrame:
    """The tokens with the unusual tags read by regular expressions, values normalised."""
    frame = plan.collect()
    slow = frame.filter(~pl.col("fast") & ~pl.col("text"))
    frame = frame.filter(pl.col("fast")).drop("fast", "text")
    if slow.height:
        frame = _slow_rows(frame, slow, data, first_line, raw.height)
    starts = _record_starts(data)
    return _normalise(frame, lambda row: first_line + data.count(b"\n", 0, int(starts[row])))


def _record_starts(data: bytes) -> np.ndarray:
    """Where each record of `_tokens` starts: 0, then one past every "<"."""
    lt = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("<"))
    return np.concatenate(([0], lt + 1))


def _slow_rows(frame: pl.DataFrame, slow: pl.DataFrame, data: bytes,
               first_line: int, n_records: int) -> pl.DataFrame:
    starts = _record_starts(data)
    if len(starts) != n_records:  # pragma: no cover - a CSV reader that drops records
        raise XESError(f"internal tokeniser mismatch ({n_records} records, {len(starts)} tags)")

    def line(row: int) -> int:
        return first_line + data.count(b"\n", 0, int(starts[row]))

    fixed = []
    for row in slow["row"].to_list():
        end = int(starts[row + 1]) - 1 if row + 1 < len(starts) else len(data)
        rec = "<" + data[int(starts[row]):end].decode("utf-8")
        m = _TAG.match(rec)
        if m is None:
            raise XESError(f"malformed XML: cannot read the tag {rec.strip()[:60]!r}",
                           line=line(row))
        close, qname, attrtext, selfclose = m.groups()
        name = qname.rpartition(":")[2]
        if not _XML_NAME.fullmatch(qname):
            raise XESError(f"malformed XML: <{qname}> is not a name", line=line(row))
        if name not in _ELEMENTS:
            raise XESError(f"unexpected element <{qname}>", line=line(row))
        if rec[m.end():].strip():
            raise XESError("text outside an attribute is not XES: "
                           f"{rec[m.end():].strip()[:40]!r}", line=line(row))
        if close and (attrtext.strip() or selfclose):
            raise XESError(f"malformed XML: a closing tag {rec.strip()[:40]!r}",
                           line=line(row))
        attrs: dict[str, str] = {}
        for am in _XML_ATTR.finditer(attrtext):
            if not _XML_NAME.fullmatch(am.group(1)):
                raise XESError(f"malformed XML: {am.group(1)!r} is not an attribute name",
                               line=line(row))
            if am.group(1) in attrs:
                raise XESError(f"malformed XML: the attribute {am.group(1)!r} twice",
                               line=line(row))
            attrs[am.group(1)] = am.group(2) if am.group(2) is not None else am.group(3)
        fixed.append({
            "row": row, "name": name, "close": close == "/", "selfclose": selfclose == "/",
            "key": attrs.get("key"), "value": attrs.get("value"),
            "xattrs": json.dumps(attrs, ensure_ascii=False) if attrs else None,
        })
    patch = pl.DataFrame(fixed, schema={
        "row": frame.schema["row"], "name": _NAME, "close": pl.Boolean,
        "selfclose": pl.Boolean, "key": pl.String, "value": pl.String, "xattrs": pl.String})
    return pl.concat([frame.select(patch.columns), patch]).sort("row")


def _normalise(frame: pl.DataFrame, locate: Callable[[int], int]) -> pl.DataFrame:
    """XML attribute-value normalisation and entity expansion of key, value and xattrs.

    ``locate(row)`` gives a row's line, for the error on a "&" that starts no reference.
    """
    odd = frame.select(pl.any_horizontal(
        pl.col("key").str.contains(r"[\t\n\r&]").any(),
        pl.col("value").str.contains(r"[\t\n\r&]").any())).item()
    if odd:
        for col in ("key", "value"):
            s = frame[col]
            mask = s.str.contains(r"[\t\n\r&]").fill_null(False)
            if mask.any():
                idx = mask.arg_true()
                vals = []
                for i, v in zip(idx.to_list(), s.gather(idx).to_list(), strict=True):
                    if _BARE_AMP.search(v):
                        raise XESError("malformed XML: an & that starts no reference "
                                       "(write &amp;)", line=locate(frame["row"][i]))
                    vals.append(_expand(_ws(v)))
                frame = frame.with_columns(s.scatter(idx, vals))
    if frame["xattrs"].is_not_null().any():
        idx = frame["xattrs"].is_not_null().arg_true()
        vals = []
        for i, x in zip(idx.to_list(), frame["xattrs"].gather(idx).to_list(), strict=True):
            attrs = json.loads(x)
            if any(_BARE_AMP.search(v) for v in attrs.values()):
                raise XESError("malformed XML: an & that starts no reference (write &amp;)",
                               line=locate(frame["row"][i]))
            vals.append(json.dumps({k: _expand(_ws(v)) for k, v in attrs.items()},
                                   ensure_ascii=False))
        frame = frame.with_columns(frame["xattrs"].scatter(idx, vals))
    return frame


def _ws(v: str) -> str:
    return re.sub(r"[\t\n\r]", " ", v.replace("\r\n", " "))


def _entity(m: re.Match[str]) -> str:
    ref = m.group(1)
    if ref[0] == "#":
        return chr(int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:]))
    return _ENTITIES[ref]


def _expand(v: str) -> str:
    return _REFERENCE.sub(_entity, v) if "&" in v else v


def _line_of(chunk: _Chunk, row: int) -> int:
    starts = _record_starts(chunk.data)
    return chunk.first_line + chunk.data.count(b"\n", 0, int(starts[min(row, len(starts) - 1)]))


# -- timestamps ---------------------------------------------------------------------------------


def _parse_timestamps(
    raw: pl.Series, naive_tz: ZoneInfo | None,
    locate: Callable[[int], tuple[int, str]], what: str,
) -> pl.Series:
    s = raw  # (surrounding whitespace, rare, is left to the slow path below)
    parsed = s.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", time_unit="us", time_zone="UTC",
                               strict=False, cache=False)
    bad = (parsed.is_null() & s.is_not_null()).arg_true()
    if bad.len() == 0:
        return parsed
    values = []
    for i in bad.to_list():
        text = s[i]
        try:
            values.append(parse_xes_datetime(text, naive_tz))
        except ValueError as e:
            line, where = locate(i)
            raise XESError(f"{what} {text!r}: {e}", line=line, event=where) from None
    return parsed.scatter(bad, pl.Series(values, dtype=pl.Datetime("us", "UTC")))


def parse_xes_datetime(text: str, naive_tz: ZoneInfo | None = None) -> datetime:
    """An xs:dateTime as an aware UTC datetime (fractions beyond µs are cut off).

    Raises ValueError for text that is not a date-time, an unknown time zone
    (an offset beyond ±14:00 or a name), or no time zone when ``naive_tz`` is None.
    """
    m = _DATETIME.fullmatch(text.strip())
    if not m:
        if re.match(r"-?\d{4,}-\d{2}-\d{2}[T ]\d{2}:\d{2}", text.strip()):
            raise ValueError("unknown time zone")
        raise ValueError("not an xs:dateTime")
    y, mo, d, h, mi, sec, frac, tz = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    extra_day = False
    if h == "24" and mi == "00" and (sec or "00") == "00" and micro == 0:
        h, extra_day = "00", True
    value = datetime(int(y), int(mo), int(d), int(h), int(mi), int(sec or 0), micro)
    if extra_day:
        value += timedelta(days=1)
    if tz is None:
        if naive_tz is None:
            raise ValueError("no time zone (give naive_timezone to read it as local time)")
        local = value.replace(tzinfo=naive_tz)
        if local.astimezone(UTC).astimezone(naive_tz).replace(tzinfo=None) != value:
            raise ValueError(f"does not exist in {naive_tz.key}")
        return local.astimezone(UTC)
    if tz == "Z":
        return value.replace(tzinfo=UTC)
    sign = -1 if tz[0] == "-" else 1
    hh, mm = int(tz[1:3]), int(tz[-2:])
    if mm >= 60 or hh * 60 + mm > 14 * 60:
        raise ValueError(f"unknown time zone offset {tz}")
    offset = timezone(sign * timedelta(hours=hh, minutes=mm))
    return value.replace(tzinfo=offset).astimezone(UTC)


# -- writing ------------------------------------------------------------------------------------


def write_xes(
    log: EventLog,
    target: str | Path | IO[bytes],
    *,
    compress: bool | None = None,
    timezone: str = "UTC",
) -> None:
    """Write a log as XES; gzip when ``compress`` (default: the name ends in ``.gz``).

    Timestamps are written in ``timezone`` (e.g. ``"Asia/Tokyo"`` → ``+09:00``).
    """
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise XESError(f"unknown time zone {timezone!r}") from e
    if isinstance(target, str | Path):
        path = Path(target)
        gz = path.name.endswith(".gz") if compress is None else compress
        with open(path, "wb") as raw:
            if gz:
                with gzip.GzipFile(fileobj=raw, mode="wb", filename="", mtime=0) as out:
                    _write(log, out, timezone)
            else:
                _write(log, raw, timezone)
        return
    if compress:
        with gzip.GzipFile(fileobj=target, mode="wb", filename="", mtime=0) as out:
            _write(log, out, timezone)
    else:
        _write(log, target, timezone)


def _q(text: str) -> str:
    return ('"' + text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
            .replace("\t", "&#9;").replace("\n", "&#10;").replace("\r", "&#13;") + '"')


def _xml_text(e: pl.Expr) -> pl.Expr:
    return (e.str.replace_all("&", "&amp;", literal=True)
            .str.replace_all("<", "&lt;", literal=True)
            .str.replace_all('"', "&quot;", literal=True)
            .str.replace_all("\t", "&#9;", literal=True)
            .str.replace_all("\n", "&#10;", literal=True)
            .str.replace_all("\r", "&#13;", literal=True))


def _attr_xml(a: Attribute, indent: str) -> str:
    head = f"{indent}<{a.type} key={_q(a.key)}"
    if a.value is not None:
        head += f" value={_q(a.value)}"
    if not a.children:
        return head + "/>\n"
    inner = "".join(_attr_xml(c, indent + "\t") for c in a.children)
    if a.type == "list":
        inner = f"{indent}\t<values>\n" + "".join(
            _attr_xml(c, indent + "\t\t") for c in a.children) + f"{indent}\t</values>\n"
    return head + ">\n" + inner + f"{indent}</{a.type}>\n"


def _write(log: EventLog, out: _Writes, tz: str) -> None:
    meta = log.meta
    head = ['<?xml version="1.0" encoding="UTF-8"?>\n',
            "<log" + "".join(f" {k}={_q(v)}" for k, v in meta.root) + ">\n"]
    for ext in meta.extensions:
        head.append("\t<extension" + "".join(f" {k}={_q(v)}" for k, v in ext) + "/>\n")
    for scope, attrs in meta.globals:
        head.append(f"\t<global scope={_q(scope)}>\n")
        head.extend(_attr_xml(a, "\t\t") for a in attrs)
        head.append("\t</global>\n")
    for cl in meta.classifiers:
        head.append("\t<classifier" + "".join(f" {k}={_q(v)}" for k, v in cl) + "/>\n")
    head.extend(_attr_xml(a, "\t") for a in meta.attributes)
    out.write("".join(head).encode("utf-8"))

    start_key = meta.start_key or "start_timestamp"
    fmt = "%Y-%m-%dT%H:%M:%S%.6f%:z"

    def stamp(col: str) -> pl.Expr:
        return (pl.col(col).dt.convert_time_zone(tz).dt.strftime(fmt)
                .str.replace(r"(\.\d{3})000([+-])", "${1}${2}"))

    def opt(col: str, key: str, typ: str = "string", value: pl.Expr | None = None) -> pl.Expr:
        v = value if value is not None else _xml_text(pl.col(col))
        return pl.when(pl.col(col).is_not_null()).then(
            f'\t\t\t<{typ} key="{key}" value="' + v + '"/>\n').otherwise(pl.lit(""))

    extra_cache: dict[str, str] = {}

    def extra(text: str | None) -> str:
        if not text:
            return ""
        hit = extra_cache.get(text)
        if hit is None:
            hit = "".join(_attr_xml(a, "\t\t\t") for a in decode_attributes(text))
            if len(extra_cache) < 100_000:
                extra_cache[text] = hit
        return hit

    events = log.events.sort("position")
    extras = pl.Series([extra(t) for t in events["attributes"].to_list()], dtype=pl.String)
    xml = events.with_columns(extras.alias("_extra")).select(
        "case",
        pl.concat_str([
            pl.lit("\t\t<event>\n"),
            opt("activity", "concept:name"),
            opt("resource", "org:resource"),
            opt("role", "org:role"),
            opt("department", "org:group"),
            opt("timestamp", "time:timestamp", "date", stamp("timestamp")),
            opt("start", start_key, "date", stamp("start")),
            opt("lifecycle", "lifecycle:transition"),
            pl.col("_extra"),
            pl.lit("\t\t</event>\n"),
        ]).alias("xml"),
    ).group_by("case", maintain_order=True).agg(pl.col("xml").str.join(""))
    traces = log.cases.sort("position").join(xml, on="case", how="left", maintain_order="left")
    for case, attributes, body in traces.select("case", "attributes", "xml").iter_rows():
        parts = ["\t<trace>\n", _attr_xml(Attribute("string", "concept:name", case), "\t\t")]
        parts.extend(_attr_xml(a, "\t\t") for a in decode_attributes(attributes))
        parts.append(body or "")
        parts.append("\t</trace>\n")
        out.write("".join(parts).encode("utf-8"))
    out.write(b"</log>\n")

