"""OCEL 2.0: JSON, XML and SQLite read and write, round trips, flattening, errors.

The round-trip tests use the specification's running example as shipped in
`../shared/data/event-logs/` (ocel20_example.jsonocel and .sqlite); they are
skipped when that folder is absent. Counts are checked against a reading of
the same files with the json and sqlite3 modules, not with kijun's readers.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kijun.measure.log import EventLog, decode_attributes
from kijun.measure.metrics import compute_metrics
from kijun.measure.ocel import (
    AttributeDef,
    Event,
    EventAttribute,
    Object,
    ObjectAttribute,
    Ocel,
    OcelError,
    OcelType,
    Relationship,
    flatten,
    read_ocel,
    write_ocel,
)
from kijun.measure.ocel_json import dumps_ocel_json, loads_ocel_json
from kijun.measure.ocel_xml import dumps_ocel_xml, loads_ocel_xml

LOGS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "event-logs"
JSON_EXAMPLE = LOGS / "ocel20_example.jsonocel"
SQLITE_EXAMPLE = LOGS / "ocel20_example.sqlite"


@pytest.fixture
def json_example() -> Path:
    if not JSON_EXAMPLE.is_file():
        pytest.skip(f"OCEL example not found at {JSON_EXAMPLE} (../shared/data/event-logs absent)")
    return JSON_EXAMPLE


@pytest.fixture
def sqlite_example() -> Path:
    if not SQLITE_EXAMPLE.is_file():
        pytest.skip(
            f"OCEL example not found at {SQLITE_EXAMPLE} (../shared/data/event-logs absent)"
        )
    return SQLITE_EXAMPLE


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


# --- independent readings -------------------------------------------------------


def json_facts(path: Path) -> dict[str, Any]:
    """What the JSON file says, read with the json module alone."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {
        "events": {
            e["id"]: (
                e["type"],
                instant(e["time"]),
                {a["name"]: a["value"] for a in e.get("attributes", [])},
            )
            for e in doc["events"]
        },
        "objects": {o["id"]: o["type"] for o in doc["objects"]},
        "object_values": {
            (o["id"], a["name"], instant(a["time"]), a["value"])
            for o in doc["objects"]
            for a in o.get("attributes", [])
        },
        "e2o": {
            (e["id"], r["objectId"], r["qualifier"])
            for e in doc["events"]
            for r in e.get("relationships", [])
        },
        "o2o": {
            (o["id"], r["objectId"], r["qualifier"])
            for o in doc["objects"]
            for r in o.get("relationships", [])
        },
        "event_types": {
            t["name"]: {a["name"]: a["type"] for a in t["attributes"]} for t in doc["eventTypes"]
        },
        "object_types": {
            t["name"]: {a["name"]: a["type"] for a in t["attributes"]} for t in doc["objectTypes"]
        },
    }


def ocel_facts(ocel: Ocel) -> dict[str, Any]:
    """The same facts from a log kijun read."""
    return {
        "events": {
            e.id: (e.type, e.time, {a.name: a.value for a in e.attributes}) for e in ocel.events
        },
        "objects": {o.id: o.type for o in ocel.objects},
        "object_values": {
            (o.id, a.name, a.time, a.value) for o in ocel.objects for a in o.attributes
        },
        "e2o": set(ocel.e2o()),
        "o2o": set(ocel.o2o()),
        "event_types": {t.name: {a.name: a.type for a in t.attributes} for t in ocel.event_types},
        "object_types": {
            t.name: {a.name: a.type for a in t.attributes} for t in ocel.object_types
        },
    }


def sqlite_tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of a SQLite file, read with sqlite3 alone: each row as its
    (column, value) pairs by column name, the rows sorted."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        out: dict[str, list[tuple[Any, ...]]] = {}
        for name in names:
            cols = [r[1] for r in conn.execute(f'PRAGMA table_info("{name}")')]
            rows = conn.execute(f'SELECT * FROM "{name}"').fetchall()
            out[name] = sorted(
                (tuple(sorted(zip(cols, r, strict=True), key=lambda cv: cv[0])) for r in rows),
                key=repr,
            )
        return out
    finally:
        conn.close()


# --- reading the examples ---------------------------------------------------------


def test_json_example_read_matches_the_json_module(json_example: Path) -> None:
    ocel = read_ocel(json_example)
    expected = json_facts(json_example)
    assert ocel_facts(ocel) == expected
    assert len(ocel.events) == 13 and len(ocel.objects) == 9
    assert len(ocel.e2o()) == len(expected["e2o"]) == 20
    assert len(ocel.o2o()) == len(expected["o2o"]) == 7
    # order is the file's
    doc = json.loads(json_example.read_text(encoding="utf-8"))
    assert [e.id for e in ocel.events] == [e["id"] for e in doc["events"]]
    assert [o.id for o in ocel.objects] == [o["id"] for o in doc["objects"]]


def test_sqlite_example_counts_match_sqlite3(sqlite_example: Path) -> None:
    ocel = read_ocel(sqlite_example)
    conn = sqlite3.connect(f"file:{sqlite_example}?mode=ro", uri=True)
    try:
        def count(sql: str) -> int:
            return int(conn.execute(sql).fetchone()[0])

        assert len(ocel.events) == count("SELECT count(*) FROM event")
        assert len(ocel.objects) == count("SELECT count(*) FROM object")
        assert len(ocel.e2o()) == count("SELECT count(*) FROM event_object")
        assert len(ocel.o2o()) == count("SELECT count(*) FROM object_object")
        assert {(e.id, e.type) for e in ocel.events} == set(
            conn.execute("SELECT ocel_id, ocel_type FROM event").fetchall()
        )
        assert set(ocel.e2o()) == set(conn.execute("SELECT * FROM event_object").fetchall())
        assert set(ocel.o2o()) == set(conn.execute("SELECT * FROM object_object").fetchall())
        # one value per non-empty cell of an initial row, one per change row
        values = 0
        for (suffix,) in conn.execute("SELECT ocel_type_map FROM object_map_type").fetchall():
            cols = [r[1] for r in conn.execute(f'PRAGMA table_info("object_{suffix}")')]
            attrs = [c for c in cols if c not in ("ocel_id", "ocel_time", "ocel_changed_field")]
            for row in conn.execute(f'SELECT * FROM "object_{suffix}"').fetchall():
                cells = dict(zip(cols, row, strict=True))
                if cells.get("ocel_changed_field"):
                    values += 1
                else:
                    values += sum(cells[a] is not None for a in attrs)
        assert sum(len(o.attributes) for o in ocel.objects) == values
        for e in ocel.events:
            suffix = conn.execute(
                "SELECT ocel_type_map FROM event_map_type WHERE ocel_type = ?", (e.type,)
            ).fetchone()[0]
            (time,) = conn.execute(
                f'SELECT ocel_time FROM "event_{suffix}" WHERE ocel_id = ?', (e.id,)
            ).fetchone()
            assert e.time == datetime.fromisoformat(time).replace(tzinfo=UTC)
    finally:
        conn.close()


def test_the_two_examples_hold_the_same_log_one_hour_apart(
    json_example: Path, sqlite_example: Path
) -> None:
    """The shipped SQLite file was written in Central European local time
    without saying so: read as the specification's UTC, every time is one hour
    later than in the JSON file; read in Europe/Berlin, the logs are equal."""
    from_json = read_ocel(json_example)
    as_utc = read_ocel(sqlite_example)
    assert {e.id: e.time + timedelta(hours=1) for e in from_json.events} == {
        e.id: e.time for e in as_utc.events
    }
    berlin = read_ocel(sqlite_example, naive_timezone="Europe/Berlin")
    assert berlin.canonical() == from_json.canonical()


# --- round trips ------------------------------------------------------------------


def test_json_to_json(json_example: Path, tmp_path: Path) -> None:
    ocel = read_ocel(json_example)
    out = tmp_path / "again.jsonocel"
    write_ocel(ocel, out)
    assert read_ocel(out) == ocel
    assert json_facts(out) == json_facts(json_example)


def test_json_to_xml_to_json(json_example: Path, tmp_path: Path) -> None:
    ocel = read_ocel(json_example)
    write_ocel(ocel, tmp_path / "log.xmlocel")
    from_xml = read_ocel(tmp_path / "log.xmlocel")
    assert from_xml == ocel
    write_ocel(from_xml, tmp_path / "log.jsonocel")
    assert json_facts(tmp_path / "log.jsonocel") == json_facts(json_example)


def test_json_to_sqlite_to_json(json_example: Path, tmp_path: Path) -> None:
    ocel = read_ocel(json_example)
    write_ocel(ocel, tmp_path / "log.sqlite")
    from_sqlite = read_ocel(tmp_path / "log.sqlite")
    assert from_sqlite.canonical() == ocel.canonical()
    assert from_sqlite.e2o() == ocel.e2o() and from_sqlite.o2o() == ocel.o2o()
    assert [e.id for e in from_sqlite.events] == [e.id for e in ocel.events]
    write_ocel(from_sqlite, tmp_path / "log.jsonocel")
    assert json_facts(tmp_path / "log.jsonocel") == json_facts(json_example)


def test_sqlite_to_json_to_sqlite(sqlite_example: Path, tmp_path: Path) -> None:
    ocel = read_ocel(sqlite_example)
    write_ocel(ocel, tmp_path / "log.jsonocel")
    from_json = read_ocel(tmp_path / "log.jsonocel")
    assert from_json == ocel
    write_ocel(from_json, tmp_path / "log.sqlite")
    assert read_ocel(tmp_path / "log.sqlite").canonical() == ocel.canonical()

    before, after = sqlite_tables(sqlite_example), sqlite_tables(tmp_path / "log.sqlite")
    assert sorted(before) == sorted(after)
    for table in before:
        if not table.startswith("object_") or table in ("object_object", "object_map_type"):
            assert after[table] == before[table], table
            continue
        # the example leaves out ocel_changed_field where nothing changes (kijun
        # always writes it), and an object's history row with no value says
        # nothing in OCEL 2.0 (P1..P3): kijun writes it at the epoch
        def informative(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
            return [
                tuple((c, v) for c, v in r if c != "ocel_changed_field" or v is not None)
                for r in rows
                if any(v is not None for c, v in r if c not in ("ocel_id", "ocel_time"))
            ]

        assert informative(after[table]) == informative(before[table]), table
        assert len(after[table]) == len(before[table]), table


def test_sqlite_round_trip_keeps_naive_berlin_times(sqlite_example: Path, tmp_path: Path) -> None:
    """Read in Europe/Berlin, written (in UTC) and read back: the same instants."""
    ocel = read_ocel(sqlite_example, naive_timezone="Europe/Berlin")
    write_ocel(ocel, tmp_path / "utc.sqlite")
    assert read_ocel(tmp_path / "utc.sqlite").canonical() == ocel.canonical()


# --- a log with every kind of value ------------------------------------------------

JST = timezone(timedelta(hours=9))


def rich_log() -> Ocel:
    types = (
        AttributeDef("text", "string"),
        AttributeDef("count", "integer"),
        AttributeDef("amount", "float"),
        AttributeDef("urgent", "boolean"),
        AttributeDef("due", "time"),
    )
    t0 = datetime(2026, 4, 1, 9, 30, 15, 123456, tzinfo=JST).astimezone(UTC)
    return Ocel(
        event_types=(OcelType("受付 (窓口)", types), OcelType("審査", ())),
        object_types=(OcelType("申請", types), OcelType("世帯", ())),
        events=(
            Event(
                "e-1",
                "受付 (窓口)",
                t0,
                (
                    EventAttribute("text", "  line one\r\nline <two> & \"three\"\t "),
                    EventAttribute("count", -3),
                    EventAttribute("amount", 0.1),
                    EventAttribute("urgent", True),
                    EventAttribute("due", t0 + timedelta(days=14)),
                ),
                (Relationship("a-1", "creates"), Relationship("h-1", ""),
                 Relationship("a-1", "concerns")),
            ),
            Event("e-2", "審査", t0 + timedelta(hours=2), (), (Relationship("a-1", "審査対象"),)),
        ),
        objects=(
            Object(
                "a-1",
                "申請",
                (
                    ObjectAttribute("text", t0, ""),
                    ObjectAttribute("count", t0, 0),
                    ObjectAttribute("amount", t0, 1e-300),
                    ObjectAttribute("urgent", t0, False),
                    ObjectAttribute("count", t0 + timedelta(hours=1), 12345678901234),
                    ObjectAttribute("due", t0 - timedelta(days=1), t0),
                ),
                (Relationship("h-1", "belongs to"),),
            ),
            Object("h-1", "世帯", (), ()),
        ),
    )


@pytest.mark.parametrize("suffix", [".jsonocel", ".xmlocel", ".sqlite"])
def test_every_value_type_round_trips(tmp_path: Path, suffix: str) -> None:
    ocel = rich_log()
    write_ocel(ocel, tmp_path / f"log{suffix}")
    back = read_ocel(tmp_path / f"log{suffix}")
    assert back.canonical() == ocel.canonical()
    if suffix != ".sqlite":
        assert back == ocel


# property: any consistent log survives every format

#: characters XML 1.0 can carry (JSON and SQLite carry any)
_chars = st.characters(
    blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"
) | st.sampled_from("\t\n\r")
_names = st.text(_chars, min_size=1, max_size=8)
_times = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
_VALUES: dict[str, Any] = {
    "string": st.text(_chars, max_size=10),
    "integer": st.integers(min_value=-(2**63), max_value=2**63 - 1),
    "float": st.floats(allow_nan=False, allow_infinity=False),
    "boolean": st.booleans(),
    "time": _times,
}


@st.composite
def ocel_logs(draw: st.DrawFn) -> Ocel:
    def attr_defs() -> tuple[AttributeDef, ...]:
        names = draw(st.lists(st.from_regex(r"[a-z][a-z0-9_ ]{0,6}", fullmatch=True),
                              max_size=3, unique_by=str.lower))
        names = [n for n in names if n.lower() not in ("ocel_id", "ocel_time",
                                                       "ocel_changed_field")]
        return tuple(AttributeDef(n, draw(st.sampled_from(list(_VALUES)))) for n in names)

    etypes = tuple(OcelType(n, attr_defs())
                   for n in draw(st.lists(_names, min_size=1, max_size=3, unique=True)))
    otypes = tuple(OcelType(n, attr_defs())
                   for n in draw(st.lists(_names, min_size=1, max_size=3, unique=True)))
    object_ids = draw(st.lists(_names, max_size=5, unique=True))

    def rels() -> tuple[Relationship, ...]:
        if not object_ids:
            return ()
        pairs = draw(st.lists(st.tuples(st.sampled_from(object_ids), st.text(_chars, max_size=4)),
                              max_size=3, unique=True))
        return tuple(Relationship(o, q) for o, q in pairs)

    objects = []
    for oid in object_ids:
        t = draw(st.sampled_from(otypes))
        values = []
        for a in t.attributes:
            for when in draw(st.lists(_times, max_size=2, unique=True)):
                values.append(ObjectAttribute(a.name, when, draw(_VALUES[a.type])))
        objects.append(Object(oid, t.name, tuple(values), rels()))
    events = []
    for eid in draw(st.lists(_names, max_size=5, unique=True)):
        t = draw(st.sampled_from(etypes))
        chosen = [a for a in t.attributes if draw(st.booleans())]
        events.append(Event(eid, t.name, draw(_times),
                            tuple(EventAttribute(a.name, draw(_VALUES[a.type])) for a in chosen),
                            rels()))
    return Ocel(etypes, otypes, tuple(events), tuple(objects))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ocel=ocel_logs())
def test_any_log_round_trips_through_every_format(ocel: Ocel, tmp_path: Path) -> None:
    assert loads_ocel_json(dumps_ocel_json(ocel)) == ocel
    assert loads_ocel_xml(dumps_ocel_xml(ocel).encode("utf-8")) == ocel
    path = tmp_path / "p.sqlite"
    write_ocel(ocel, path)
    assert read_ocel(path).canonical() == ocel.canonical()


# --- flattening -------------------------------------------------------------------


def test_flatten_each_object_type(json_example: Path) -> None:
    ocel = read_ocel(json_example)
    doc = json.loads(json_example.read_text(encoding="utf-8"))
    type_of = {o["id"]: o["type"] for o in doc["objects"]}
    for object_type in {o["type"] for o in doc["objects"]}:
        expected: dict[str, set[str]] = defaultdict(set)
        for e in doc["events"]:
            for r in e.get("relationships", []):
                if type_of[r["objectId"]] == object_type:
                    expected[r["objectId"]].add(e["id"])
        log = flatten(ocel, object_type)
        assert isinstance(log, EventLog)
        got = Counter(log.events["case"].to_list())
        assert got == {case: len(ids) for case, ids in expected.items()}, object_type
        assert sorted(log.cases["case"].to_list()) == sorted(
            o for o, t in type_of.items() if t == object_type
        )
        # each case: its events, each once, in time order
        for case, ids in expected.items():
            rows = log.events.filter(log.events["case"] == case)
            eids = [next(a.value for a in decode_attributes(text) if a.key == "ocel:eid")
                    for text in rows["attributes"].to_list()]
            assert sorted(eids) == sorted(ids)
            times = rows["timestamp"].to_list()
            assert times == sorted(times)
            assert rows["activity"].to_list() == [
                next(e["type"] for e in doc["events"] if e["id"] == i) for i in eids
            ]


def test_metrics_run_on_a_flattened_log(json_example: Path) -> None:
    ocel = read_ocel(json_example)
    doc = json.loads(json_example.read_text(encoding="utf-8"))
    times: dict[str, list[datetime]] = defaultdict(list)
    for e in doc["events"]:
        for oid in {r["objectId"] for r in e["relationships"]}:
            times[oid].append(instant(e["time"]))
    for object_type in ("Purchase Requisition", "Purchase Order", "Invoice", "Payment"):
        ids = [o["id"] for o in doc["objects"] if o["type"] == object_type]
        m = compute_metrics(flatten(ocel, object_type))
        assert m["cases"] == len(ids)
        assert m["events"] == sum(len(times[i]) for i in ids)
        leads = sorted((max(times[i]) - min(times[i])).total_seconds() for i in ids)
        assert m["lead_time_mean"] == pytest.approx(sum(leads) / len(leads))


def test_flatten_event_in_several_cases_and_attributes(json_example: Path) -> None:
    ocel = read_ocel(json_example)
    log = flatten(ocel, "Invoice", resource=["invoice_inserter", "payment_inserter"])
    # e5 relates to PO1 and R1: it is in R1's case here and in PO1's on Purchase Order
    po = flatten(ocel, "Purchase Order")
    po1 = po.events.filter(po.events["case"] == "PO1")
    assert po1["activity"].to_list() == [
        "Create Purchase Order", "Change PO Quantity", "Insert Invoice", "Insert Invoice"
    ]
    r1 = log.events.filter(log.events["case"] == "R1")
    assert r1["activity"].to_list() == ["Insert Invoice", "Insert Payment"]
    assert r1["resource"].to_list() == ["Luke", "Robot"]
    attrs = {a.key: a for a in decode_attributes(r1["attributes"][0])}
    assert attrs["ocel:eid"].value == "e5"
    assert attrs["ocel:qualifier"].value == "Invoice created with identifier"
    assert attrs["invoice_inserter"].value == "Luke"


def test_flatten_shared_event_and_typed_attributes() -> None:
    ocel = rich_log()
    log = flatten(ocel, "申請")
    assert log.events.height == 2  # e-1 related to a-1 twice (two qualifiers) counts once
    attrs = {a.key: a for a in decode_attributes(log.events["attributes"][0])}
    assert attrs["ocel:qualifier"].value == "creates; concerns"
    assert (attrs["count"].type, attrs["count"].value) == ("int", "-3")
    assert (attrs["urgent"].type, attrs["urgent"].value) == ("boolean", "true")
    assert attrs["due"].type == "date"
    with pytest.raises(OcelError, match="no object type 'Nope'"):
        flatten(ocel, "Nope")


def test_flatten_puts_an_event_in_the_case_of_each_related_object() -> None:
    t = datetime(2024, 1, 1, tzinfo=UTC)
    ocel = Ocel(
        (OcelType("merge", ()), OcelType("open", ())),
        (OcelType("file", ()),),
        (
            Event("e1", "open", t, (), (Relationship("f1", "opened"),)),
            Event("e2", "open", t, (), (Relationship("f2", "opened"),)),
            Event("e3", "merge", t + timedelta(hours=1), (),
                  (Relationship("f2", "into"), Relationship("f1", "from"))),
        ),
        (Object("f1", "file"), Object("f2", "file"), Object("f3", "file")),
    )
    log = flatten(ocel, "file")
    assert log.events.select("case", "activity").rows() == [
        ("f1", "open"), ("f1", "merge"), ("f2", "open"), ("f2", "merge")
    ]
    assert log.cases["case"].to_list() == ["f1", "f2", "f3"]  # f3: a case without events


# --- errors -------------------------------------------------------------------------

MINIMAL: dict[str, Any] = {
    "objectTypes": [{"name": "Order", "attributes": [{"name": "qty", "type": "integer"}]}],
    "eventTypes": [{"name": "Place", "attributes": [{"name": "by", "type": "string"}]}],
    "objects": [
        {"id": "o1", "type": "Order",
         "attributes": [{"name": "qty", "time": "2024-01-01T00:00:00Z", "value": "3"}],
         "relationships": []},
    ],
    "events": [
        {"id": "e1", "type": "Place", "time": "2024-01-02T09:00:00+09:00",
         "attributes": [{"name": "by", "value": "Aiko"}],
         "relationships": [{"objectId": "o1", "qualifier": "placed"}]},
        {"id": "e2", "type": "Place", "time": "2024-01-03T09:00:00Z",
         "attributes": [], "relationships": [{"objectId": "o1", "qualifier": "placed"}]},
    ],
}


def broken(change: Any) -> str:
    doc = json.loads(json.dumps(MINIMAL))
    change(doc)
    return json.dumps(doc, indent=1)


def test_minimal_document_reads() -> None:
    ocel = loads_ocel_json(json.dumps(MINIMAL))
    assert ocel.event("e1").time == datetime(2024, 1, 2, 0, 0, tzinfo=UTC)
    assert ocel.object("o1").attributes[0].value == 3


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["events"][1].pop("time"), r"\$\.events\[1\]: event 'e2': time is missing"),
        (lambda d: d["events"][1].update(time="yesterday"),
         r"event 'e2': time: 'yesterday' is not an ISO 8601 date-time"),
        (lambda d: d["events"][1].update(time="2024-01-03T09:00:00"),
         r"event 'e2': time: timestamp '2024-01-03T09:00:00' has no time zone offset"),
        (lambda d: d["events"][1].update(time="2024-01-03T09:00:00 CET"),
         r"event 'e2': time: timestamp .* has an unknown time zone 'CET'"),
        (lambda d: d["events"][1].update(time="2024-01-03T09:00:00+25:00"),
         r"event 'e2': .*unknown time zone offset '\+25:00'"),
        (lambda d: d["events"][1].update(time="2024-02-30T09:00:00Z"),
         r"event 'e2': time: .* not a valid date-time"),
        (lambda d: d["objects"][0]["attributes"][0].update(time="2024-01-01"),
         r"\$\.objects\[0\]: object 'o1': attribute 'qty': time: '2024-01-01' is not"),
        (lambda d: d["events"][1].update(type="Ship"), r"event 'e2': unknown event type 'Ship'"),
        (lambda d: d["objects"][0].update(type="Box"), r"object 'o1': unknown object type 'Box'"),
        (lambda d: d["events"][1]["relationships"].append({"objectId": "o9", "qualifier": "x"}),
         r"\$\.events\[1\]: event 'e2': relationship to unknown object 'o9'"),
        (lambda d: d["events"][1].update(id="e1"),
         r"\$\.events\[1\]: event 'e1': event id appears more than once"),
        (lambda d: d["events"][1]["attributes"].append({"name": "colour", "value": "red"}),
         r"event 'e2': attribute 'colour' is not declared by type 'Place'"),
        (lambda d: d["objects"][0]["attributes"][0].update(value="three"),
         r"object 'o1': attribute 'qty': value 'three' is not an integer"),
        (lambda d: d["objectTypes"][0]["attributes"][0].update(type="colour"),
         r"\$\.objectTypes\[0\]: object type 'Order': attribute 'qty' has unknown type 'colour'"),
        (lambda d: d.pop("events"), r"\$: 'events' is missing"),
        (lambda d: d["events"][1].update(id=7), r"\$\.events\[1\]\.id: expected a string"),
    ],
)
def test_bad_json_names_the_place_and_the_reason(change: Any, expected: str) -> None:
    with pytest.raises(OcelError, match=expected):
        loads_ocel_json(broken(change), source="bad.jsonocel")


def test_malformed_json_names_the_line(tmp_path: Path) -> None:
    text = json.dumps(MINIMAL, indent=1).splitlines()
    text[7] = text[7] + ","  # a stray comma
    path = tmp_path / "bad.jsonocel"
    path.write_text("\n".join(text), encoding="utf-8")
    with pytest.raises(OcelError, match=r"bad\.jsonocel: line \d+ column \d+: malformed JSON"):
        read_ocel(path)


def test_naive_times_can_be_read_in_a_named_zone() -> None:
    text = broken(lambda d: d["events"][1].update(time="2024-01-03T09:00:00"))
    ocel = loads_ocel_json(text, naive_timezone="Asia/Tokyo")
    assert ocel.event("e2").time == datetime(2024, 1, 3, 0, 0, tzinfo=UTC)
    with pytest.raises(OcelError, match="unknown time zone 'Mars/Olympus'"):
        loads_ocel_json(text, naive_timezone="Mars/Olympus")


def test_repeated_relationships_are_one() -> None:
    text = broken(lambda d: d["events"][1]["relationships"].append(
        {"objectId": "o1", "qualifier": "placed"}))
    assert loads_ocel_json(text).event("e2").relationships == (Relationship("o1", "placed"),)


XML = """<?xml version="1.0" encoding="UTF-8"?>
<log>
  <object-types>
    <object-type name="Order"><attributes><attribute name="qty" type="integer"/></attributes></object-type>
  </object-types>
  <event-types>
    <event-type name="Place"><attributes/></event-type>
  </event-types>
  <objects>
    <object id="o1" type="Order">
      <attributes><attribute name="qty" time="2024-01-01T00:00:00Z">3</attribute></attributes>
    </object>
  </objects>
  <events>
    <event id="e1" type="Place" time="2024-01-02T00:00:00Z">
      <attributes/>
      <objects><object object-id="o1" qualifier="placed" type="Order"/></objects>
    </event>
    <event id="e2" type="Place" time="2024-01-03T00:00:00Z">
      <attributes/>
      <objects><relationship object-id="o1" qualifier="placed"/></objects>
    </event>
  </events>
</log>
"""


def test_xml_reads_both_relationship_spellings() -> None:
    ocel = loads_ocel_xml(XML)
    assert ocel.e2o() == [("e1", "o1", "placed"), ("e2", "o1", "placed")]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('time="2024-01-03T00:00:00Z"', "", r"line 19: event 'e2': time is missing"),
        ('time="2024-01-03T00:00:00Z"', 'time="2024-01-03T00:00:00"',
         r"line 19: event 'e2': time: timestamp .* has no time zone offset"),
        ('time="2024-01-02T00:00:00Z"', 'time="soon"', r"line 15: event 'e1': time: 'soon'"),
        ("</event>\n  </events>", "</events>", r"line 2\d column \d+: malformed XML: mismatched tag"),
        ('<relationship object-id="o1"', '<relationship object-id="o2"',
         r"line 19: event 'e2': relationship to unknown object 'o2'"),
        (">3<", ">many<", r"line 10: object 'o1': attribute 'qty': value 'many' is not an integer"),
        ('type="Place" time="2024-01-03', 'type="Ship" time="2024-01-03',
         r"line 19: event 'e2': unknown event type 'Ship'"),
        ("<events>", "<events><bogus/>", r"line 14: unexpected element <bogus> in <events>"),
        ('<?xml version="1.0" encoding="UTF-8"?>',
         '<?xml version="1.0"?><!DOCTYPE log [<!ENTITY x "y">]>',
         r"line 1: a document type declaration \(DTD\) is not allowed"),
    ],
)
def test_bad_xml_names_the_line(old: str, new: str, expected: str) -> None:
    assert old in XML
    with pytest.raises(OcelError, match=expected):
        loads_ocel_xml(XML.replace(old, new, 1), source="bad.xmlocel")


def make_sqlite(path: Path, mutate: str = "") -> Path:
    write_ocel(loads_ocel_json(json.dumps(MINIMAL)), path)
    if mutate:
        conn = sqlite3.connect(path)
        conn.executescript(mutate)
        conn.commit()
        conn.close()
    return path


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        ("DROP TABLE event_object", r"table 'event_object' is missing"),
        ("DELETE FROM event_Place WHERE ocel_id = 'e2'",
         r"table event: event 'e2': no row in table event_Place: the time is missing"),
        ("UPDATE event_Place SET ocel_time = 'noon' WHERE ocel_id = 'e2'",
         r"table event_Place: event 'e2': time: 'noon' is not an ISO 8601 date-time"),
        ("UPDATE event_Place SET ocel_time = NULL WHERE ocel_id = 'e2'",
         r"table event_Place: event 'e2': time is missing"),
        ("UPDATE event_Place SET ocel_time = '2024-01-03 09:00:00 JST' WHERE ocel_id = 'e2'",
         r"event 'e2': time: .* unknown time zone 'JST'"),
        ("UPDATE event SET ocel_type = 'Ship' WHERE ocel_id = 'e2'",
         r"table event: event 'e2': unknown event type 'Ship'"),
        ("INSERT INTO event_object VALUES ('e2', 'o7', 'x')",
         r"table event_Place: event 'e2': relationship to unknown object 'o7'"),
        ("INSERT INTO event_object VALUES ('e9', 'o1', 'x')",
         r"table event_object: unknown event 'e9'"),
        ("UPDATE object_Order SET qty = 'lots'",
         r"table object_Order: object 'o1': attribute 'qty': value 'lots' is not an integer"),
        ("UPDATE object_Order SET ocel_time = NULL",
         r"table object_Order: object 'o1': ocel_time is missing"),
        ("UPDATE object_Order SET ocel_changed_field = 'colour'",
         r"object 'o1': ocel_changed_field names 'colour', which is not a column"),
    ],
)
def test_bad_sqlite_names_the_table_and_id(tmp_path: Path, mutate: str, expected: str) -> None:
    path = make_sqlite(tmp_path / "bad.sqlite", mutate)
    with pytest.raises(OcelError, match=expected):
        read_ocel(path)


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(OcelError, match=r"junk\.sqlite: .*not a readable OCEL 2\.0 SQLite"):
        read_ocel(path)
    other = tmp_path / "junk.txt"
    other.write_text("hello", encoding="utf-8")
    with pytest.raises(OcelError, match=r"not an OCEL 2\.0 log kijun can read"):
        read_ocel(other)
    with pytest.raises(OcelError, match="cannot read the file"):
        read_ocel(tmp_path / "absent.jsonocel")


def test_format_by_content_and_gzip(tmp_path: Path) -> None:
    ocel = loads_ocel_json(json.dumps(MINIMAL))
    for name, text in (("log.data", dumps_ocel_json(ocel)), ("log.txt", dumps_ocel_xml(ocel))):
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert read_ocel(tmp_path / name) == ocel
    (tmp_path / "log.jsonocel.gz").write_bytes(gzip.compress(dumps_ocel_json(ocel).encode()))
    assert read_ocel(tmp_path / "log.jsonocel.gz") == ocel
    write_ocel(ocel, tmp_path / "log.bin", format="sqlite")
    assert read_ocel(tmp_path / "log.bin") == ocel


def test_nothing_half_written(tmp_path: Path) -> None:
    good = loads_ocel_json(json.dumps(MINIMAL))
    bad = Ocel(good.event_types, good.object_types,
               (*good.events, Event("e3", "Place", good.events[0].time, (),
                                    (Relationship("ghost", "x"),))),
               good.objects)
    for suffix in (".jsonocel", ".xmlocel", ".sqlite"):
        target = tmp_path / f"log{suffix}"
        write_ocel(good, target)
        before = target.read_bytes()
        with pytest.raises(OcelError, match=r"event 'e3': relationship to unknown object 'ghost'"):
            write_ocel(bad, target)
        assert target.read_bytes() == before
    clash = Ocel((OcelType("T", (AttributeDef("ocel_time", "string"),)),), (), (), ())
    with pytest.raises(OcelError, match="'ocel_time' has the name of a column"):
        write_ocel(clash, tmp_path / "clash.sqlite")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "log.jsonocel", "log.sqlite", "log.xmlocel"
    ]


def test_unwritable_characters_in_xml(tmp_path: Path) -> None:
    ocel = Ocel((OcelType("T", (AttributeDef("s", "string"),)),), (),
                (Event("e\x01", "T", datetime(2024, 1, 1, tzinfo=UTC)),), ())
    with pytest.raises(OcelError, match=r"U\+0001, which XML 1\.0 cannot carry"):
        write_ocel(ocel, tmp_path / "x.xmlocel")
    assert not (tmp_path / "x.xmlocel").exists()
    write_ocel(ocel, tmp_path / "x.jsonocel")
    assert read_ocel(tmp_path / "x.jsonocel") == ocel
