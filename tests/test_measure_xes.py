"""XES import and export: hand-written logs, bad logs, round trips of the shared logs.

Data: ../shared/data/event-logs/ — receipt.xes.gz (Buijs, J.C.A.M., CoSeLoG
project), bpic2012.xes.gz (BPI Challenge 2012, van Dongen, B.F.),
interval_event_log.xes.gz and running-example.xes.gz, from 4TU.ResearchData;
see the DISCLAIMER there. Tests that need them skip when they are absent.
"""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from kijun.measure import Attribute, Event, EventLog, XESError, read_xes, write_xes
from kijun.measure import xes as xes_module
from kijun.measure.log import decode_attributes, encode_attributes

LOGS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "event-logs"


def log_path(name: str) -> Path:
    path = LOGS / name
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared/data/event-logs is not here)")
    return path


SMALL = """<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment before the log -->
<log xes.version="1849-2016" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <global scope="event">
    <string key="concept:name" value="__INVALID__"/>
  </global>
  <classifier name="Activity" keys="concept:name"/>
  <string key="source" value="町役場"/>
  <container key="meta">
    <int key="version" value="2"/>
  </container>
  <trace>
    <string key="concept:name" value="申請-001"/>
    <string key="channel" value="窓口"/>
    <date key="received" value="2025-04-01T09:00:00+09:00"/>
    <event>
      <string key="concept:name" value="受付"/>
      <date key="time:timestamp" value="2025-04-01T09:00:00.000+09:00"/>
      <string key="org:resource" value="田中"/>
      <string key="org:role" value="窓口"/>
      <string key="org:group" value="住民課"/>
      <string key="lifecycle:transition" value="complete"/>
      <int key="pages" value="3"/>
      <float key="fee" value="2.5E2"/>
      <boolean key="urgent" value="true"/>
      <id key="form" value="c0ffee"/>
      <string key="note" value="A &amp; B &lt;1&gt; &quot;x&quot; &#x3042;&#12354;"/>
    </event>
    <event>
      <string key='concept:name' value='審査'/>
      <date key="time:timestamp" value="2025-04-01T01:30:00Z"/>
      <list key="checks">
        <values>
          <string key="item" value="住所"/>
          <string key="item" value="氏名"/>
        </values>
      </list>
      <string key="multi" value="line
two	tab"/>
    </event>
  </trace>
  <trace>
    <string key="concept:name" value="申請-002"/>
  </trace>
  <trace>
    <string key="concept:name" value="申請-003"/>
    <event>
      <date key="time:timestamp" value="2025-04-02T10:00:00.123456789+09:00"/>
      <string key="concept:name" value="決裁"/>
      <date key="start_timestamp" value="2025-04-02T09:40:00+09:00"/>
    </event>
  </trace>
  <string key="after" value="traces"/>
</log>
"""


def test_a_small_log_is_read_into_columns_and_attributes() -> None:
    log = read_xes(SMALL.encode())
    e = log.events
    assert e["case"].to_list() == ["申請-001", "申請-001", "申請-003"]
    assert e["activity"].to_list() == ["受付", "審査", "決裁"]
    assert e["timestamp"].to_list() == [
        datetime(2025, 4, 1, 0, 0, tzinfo=UTC), datetime(2025, 4, 1, 1, 30, tzinfo=UTC),
        datetime(2025, 4, 2, 1, 0, 0, 123456, tzinfo=UTC)]
    assert e["start"].to_list() == [None, None, datetime(2025, 4, 2, 0, 40, tzinfo=UTC)]
    assert e.row(0, named=True) | {"attributes": None} == {
        "case": "申請-001", "activity": "受付", "timestamp": datetime(2025, 4, 1, tzinfo=UTC),
        "start": None, "resource": "田中", "role": "窓口", "department": "住民課",
        "lifecycle": "complete", "position": 0, "attributes": None}
    first = {a.key: a for a in decode_attributes(e["attributes"][0])}
    assert first["pages"] == Attribute("int", "pages", "3")
    assert first["fee"] == Attribute("float", "fee", "2.5E2")
    assert first["urgent"] == Attribute("boolean", "urgent", "true")
    assert first["form"] == Attribute("id", "form", "c0ffee")
    assert first["note"].value == 'A & B <1> "x" ああ'
    second = {a.key: a for a in decode_attributes(e["attributes"][1])}
    assert second["checks"] == Attribute("list", "checks", None, (
        Attribute("string", "item", "住所"), Attribute("string", "item", "氏名")))
    assert second["multi"].value == "line two tab"  # XML attribute-value normalisation
    assert log.cases["case"].to_list() == ["申請-001", "申請-002", "申請-003"]
    assert json.loads(log.cases["attributes"][0]) == {
        "channel": "窓口", "received": {"date": "2025-04-01T09:00:00+09:00"}}
    meta = log.meta
    assert dict(meta.root)["xes.version"] == "1849-2016"
    assert meta.classifiers == ((("name", "Activity"), ("keys", "concept:name")),)
    assert meta.globals == (("event", (Attribute("string", "concept:name", "__INVALID__"),)),)
    assert [a.key for a in meta.attributes] == ["source", "meta", "after"]
    assert meta.attributes[1].children == (Attribute("int", "version", "2"),)
    assert meta.start_key == "start_timestamp"


def test_the_small_log_round_trips(tmp_path: Path) -> None:
    log = read_xes(SMALL.encode())
    for name in ("small.xes", "small.xes.gz"):
        write_xes(log, tmp_path / name)
        again = read_xes(tmp_path / name)
        assert again.equals(log), name
    assert (tmp_path / "small.xes.gz").read_bytes()[:2] == b"\x1f\x8b"


def test_events_built_in_python_are_written_with_an_ieee_header(tmp_path: Path) -> None:
    jst = datetime.fromisoformat("2025-04-01T09:00:00+09:00")
    log = EventLog.from_events([
        Event("a", "受付", jst, resource="田中", attributes={"枚数": 3, "メモ": "x<y"}),
        Event("a", "審査", jst.replace(hour=10), start=jst.replace(hour=9, minute=30)),
    ])
    out = io.BytesIO()
    write_xes(log, out, timezone="Asia/Tokyo")
    text = out.getvalue().decode()
    assert 'xes.version="1849-2016"' in text and 'prefix="lifecycle"' in text
    assert 'value="2025-04-01T09:00:00.000+09:00"' in text
    assert '<int key="枚数" value="3"/>' in text and 'value="x&lt;y"' in text
    again = read_xes(out.getvalue())
    assert again.events["timestamp"].equals(log.events["timestamp"])
    assert again.events["start"].equals(log.events["start"])
    assert again.meta.start_key == "start_timestamp"


def test_encode_and_decode_attributes() -> None:
    attrs = [Attribute("string", "a", 'q"\\\n'), Attribute("date", "d", "2025-01-01T00:00:00Z"),
             Attribute("container", "c", None, (Attribute("int", "i", "1"),))]
    assert decode_attributes(encode_attributes(attrs)) == attrs
    assert encode_attributes([]) is None and decode_attributes(None) == []


# -- chunks: a log read in small blocks gives the same result ---------------------------------


def test_small_blocks_give_the_same_log(monkeypatch: pytest.MonkeyPatch) -> None:
    traces = "".join(
        f'<trace><string key="concept:name" value="c{i}"/>'
        + "".join(f'<event><string key="concept:name" value="a{j}"/>'
                  f'<date key="time:timestamp" value="2025-01-0{1 + j}T00:00:00Z"/></event>'
                  for j in range(3))
        + "</trace>\n" for i in range(200))
    doc = f'<?xml version="1.0"?>\n<log xes.version="2.0">\n{traces}</log>'.encode()
    whole = read_xes(doc)
    monkeypatch.setattr(xes_module, "_BLOCK", 257)
    pieces = read_xes(doc)
    assert pieces.equals(whole)
    assert whole.events.height == 600 and whole.cases.height == 200
    assert whole.events["position"].to_list() == list(range(600))


def test_a_latin1_log() -> None:
    doc = ('<?xml version="1.0" encoding="ISO-8859-1"?><log><trace>'
           '<string key="concept:name" value="café"/><event>'
           '<string key="concept:name" value="prüfen"/>'
           '<date key="time:timestamp" value="2025-01-01T00:00:00+01:00"/>'
           '</event></trace></log>').encode("latin-1")
    log = read_xes(doc)
    assert log.events["activity"].to_list() == ["prüfen"]
    assert log.cases["case"].to_list() == ["café"]


def test_naive_timestamps_need_a_zone() -> None:
    doc = SMALL.replace("2025-04-01T01:30:00Z", "2025-04-01T10:30:00").encode()
    with pytest.raises(XESError, match="no time zone") as err:
        read_xes(doc)
    assert err.value.line == 32 and "申請-001" in str(err.value) and "event #2" in str(err.value)
    log = read_xes(doc, naive_timezone="Asia/Tokyo")
    assert log.events["timestamp"][1] == datetime(2025, 4, 1, 1, 30, tzinfo=UTC)


# -- bad logs: an error that says where, and nothing returned -------------------------------


@pytest.mark.parametrize(("change", "message", "line"), [
    (("<event>\n      <string key='concept:name' value='審査'/>", "<event>\n      <strin"),
     "malformed XML", 31),
    (('<date key="time:timestamp" value="2025-04-01T01:30:00Z"/>', ""),
     "without time:timestamp", 30),
    (("2025-04-01T01:30:00Z", "2025-04-01T01:30:00+25:00"), "unknown time zone offset", 32),
    (("2025-04-01T01:30:00Z", "2025-04-01T01:30:00 JST"), "unknown time zone", 32),
    (("2025-04-01T01:30:00Z", "yesterday"), "not an xs:dateTime", 32),
    (('<string key=\'concept:name\' value=\'審査\'/>', ""), "without concept:name", 30),
    (('<string key="concept:name" value="申請-002"/>', ""), "without concept:name", 43),
    (('value="申請-003"', 'value="申請-001"'), "more than one trace", None),
    (("</log>", ""), "not closed by </log>", None),
    (("<trace>\n    <string key=\"concept:name\" value=\"申請-002\"/>",
      "<trace>\n    <bogus/>"), "unexpected element <bogus>", 44),
])
def test_bad_logs(change: tuple[str, str], message: str, line: int | None) -> None:
    old, new = change
    assert old in SMALL
    with pytest.raises(XESError, match=message) as err:
        read_xes(SMALL.replace(old, new, 1).encode())
    if line is not None:
        assert err.value.line == line, str(err.value)


def test_not_xes_and_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(XESError, match="not an XES log"):
        read_xes(b"<html><body/></html>")
    with pytest.raises(XESError, match="cannot open"):
        read_xes(tmp_path / "missing.xes")
    with pytest.raises(XESError, match="empty"):
        read_xes(b"")
    with pytest.raises(XESError, match="malformed XML"):
        read_xes(gzip.compress(b"<log><trace><event></trace></log>"))


# -- the shared logs ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "events", "cases"), [
    ("running-example.xes.gz", 42, 6),
    ("receipt.xes.gz", 8577, 1434),
    ("interval_event_log.xes.gz", 8109, 1266),
    ("bpic2012.xes.gz", 262_200, 13_087),
])
def test_shared_logs_round_trip(name: str, events: int, cases: int, tmp_path: Path) -> None:
    log = read_xes(log_path(name))
    assert (log.events.height, log.cases.height) == (events, cases)
    assert log.events["timestamp"].null_count() == 0
    out = tmp_path / ("copy.xes.gz" if events > 10_000 else "copy.xes")
    write_xes(log, out)
    again = read_xes(out)
    assert again.equals(log)


def test_running_example_keeps_its_attributes() -> None:
    log = read_xes(log_path("running-example.xes.gz"))
    first = {a.key: a.value for a in decode_attributes(log.events["attributes"][0])}
    assert first == {"Activity": "register request", "Resource": "Pete", "Costs": "50"}
    assert dict(log.meta.root)["xmlns"] == "http://code.deckfour.org/xes"


def test_interval_log_reads_start_timestamps() -> None:
    log = read_xes(log_path("interval_event_log.xes.gz"))
    assert log.meta.start_key == "start_timestamp"
    assert log.events["start"].null_count() == 0
    assert (log.events["start"] <= log.events["timestamp"]).all()


def test_bpic2012_streams_in_bounded_memory() -> None:
    """Reading the 262,200 events must not need more than a few hundred MB."""
    path = log_path("bpic2012.xes.gz")
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc/self/status (VmHWM) to measure peak memory")
    # VmHWM, not getrusage's ru_maxrss: a child inherits its parent's ru_maxrss
    code = (
        "import re, sys\n"
        "from kijun.measure import read_xes, compute_metrics\n"
        "def peak():\n"
        "    status = open('/proc/self/status').read()\n"
        "    return int(re.search(r'VmHWM:\\s+(\\d+)', status).group(1)) // 1024\n"
        "before = peak()\n"
        "log = read_xes(sys.argv[1])\n"
        "read = peak()\n"
        "compute_metrics(log)\n"
        "print(before, read, peak())\n")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                         text=True, check=True)
    before, read, total = (int(x) for x in out.stdout.split())
    assert total < 450, f"peak RSS {total} MB (imports {before} MB, after reading {read} MB)"


def test_written_xes_is_plain_xml(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    log = read_xes(log_path("receipt.xes.gz"))
    write_xes(log, tmp_path / "r.xes")
    root = ET.parse(tmp_path / "r.xes").getroot()
    ns = "{http://www.xes-standard.org/}"
    assert root.tag == f"{ns}log"
    traces = root.findall(f"{ns}trace")
    assert len(traces) == 1434
    assert sum(len(t.findall(f"{ns}event")) for t in traces) == 8577
    assert pl.Series([e.get("key") for e in traces[0].find(f"{ns}event")]).to_list()[:2] == [
        "concept:name", "org:resource"]


def test_comments_inside_the_log_keep_line_numbers() -> None:
    doc = (b'<?xml version="1.0"?>\n<log>\n<trace><string key="concept:name" value="a"/>\n'
           b"<!-- a <comment> with\ntwo lines --><![CDATA[ <x> ]]><?pi <y>?>\n"
           b'<event><string key="concept:name" value="A"/>\n'
           b'<date key="time:timestamp" value="2025-01-01T00:00:00"/></event></trace></log>')
    with pytest.raises(XESError, match="no time zone") as err:
        read_xes(doc)
    assert err.value.line == 7
    assert read_xes(doc, naive_timezone="UTC").events["activity"].to_list() == ["A"]


# -- malformed XML: the reader's own checks, and expat's with check_xml=True ------------------

MINI = (b'<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0">\n'
        b'<trace><string key="concept:name" value="c"/>\n'
        b'<event><string key="concept:name" value="A"/>\n'
        b'<date key="time:timestamp" value="2025-01-01T00:00:00Z"/></event>\n'
        b"</trace>\n</log>\n")


@pytest.mark.parametrize(("old", "new", "message", "line"), [
    (b"</event>", b"</trace>", "where </event> belongs", 5),
    (b'value="A"', b'value="A & B"', "an & that starts no reference", 4),
    (b'value="A"', b'value="A\x01"', "U\\+0001 is not allowed", 4),
    (b"</log>\n", b"</log>\njunk", "text outside an attribute", 7),
    (b"</log>\n", b"</log>\n<log></log>", "second document element", 8),
    (b'<string key="concept:name" value="A"/>', b'<string key="x" key="y" value="A"/>',
     "the attribute 'key' twice", 4),
    (b'value="A"', b"value=A", "cannot read the tag", 4),
    (b'value="A"', b'value="A<B"', "cannot read the tag", 4),
    (b'value="A"', b'value="\xff"', "not UTF-8", 4),
    (b"<trace>", b"<!-- open <trace>", "DTD declarations are not supported", None),
    (b'<string key="concept:name" value="A"/>', b'<string 1key="x" value="A"/>',
     "not an attribute name", 4),
    (b"</trace>\n</log>\n", b"</trace>\n", "not closed by </log>", None),
])
def test_malformed_xml(old: bytes, new: bytes, message: str, line: int | None) -> None:
    assert read_xes(MINI).events.height == 1
    assert old in MINI
    doc = MINI.replace(old, new, 1)
    with pytest.raises(XESError, match=message) as err:
        read_xes(doc)
    if line is not None:
        assert err.value.line == line, str(err.value)
    with pytest.raises(XESError):
        read_xes(doc, check_xml=True)


def test_check_xml_reports_expat_errors() -> None:
    doc = MINI.replace(b'value="c"', b'value="c" value="d"')
    with pytest.raises(XESError, match="duplicate attribute") as err:
        read_xes(doc, check_xml=True)
    assert err.value.line == 3
    assert read_xes(MINI, check_xml=True).equals(read_xes(MINI))


def test_a_truncated_gzip_file() -> None:
    data = gzip.compress(MINI * 1)[:-12]
    with pytest.raises(XESError, match=r"gzip data is damaged|not closed"):
        read_xes(data)
