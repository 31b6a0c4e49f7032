#!/usr/bin/env python3
"""Check escalation records from Kafka against CloudEvents 1.0 and the data contract.

Input is kcat's JSON envelope, one record per line, from files or stdin:

    kcat -C -b 127.0.0.1:PORT -t advocacy.escalations -o beginning -e -q -J >records.jsonl
    tests/alerts/cloudevents_check.py records.jsonl

kcat 1.7.1 writes the headers as a flat list [name, value, ...] and copies
payload bytes of 0x80 and above into the line unescaped, so an Avro payload
makes the line invalid UTF-8. The lines are therefore read as bytes and
decoded with the surrogateescape error handler, which gives back the exact
payload bytes. kcat escapes every control character, so a record never
spans two lines.

Each record is checked for:
  - the CloudEvents 1.0 attributes: specversion "1.0"; id, source and type
    non-empty; time in RFC 3339; attribute names of lowercase ASCII letters
    and digits. Binary content mode reads them from ce_ headers and the
    content-type header; structured content mode (content-type
    application/cloudevents+json) reads them from the JSON event;
  - the advocacyd contract: type io.advocacyd.escalation.<status>, subject
    and Kafka key equal to the dedup key, content type application/json or
    application/avro, time equal to the data's emitted_at;
  - the data: every field of schemas/escalation.avsc present with its type.
    JSON data must be the JSON form of the schema, and Avro data is decoded
    from its Confluent frame with that schema. Rules tie fields together:
    status matches type, ends_at is set only when resolved, held_back only
    for storm, and the summary has at most 1024 bytes.

Prints {"records", "by_type", "duplicate_ids", "errors"} as JSON and exits 1
when any record has an error. A repeated id is counted, not an error:
CloudEvents allows a producer to send the same event again.

--self-test runs the checks on built-in good and bad records and exits 1
when a good record is rejected or a bad one accepted.
"""

import argparse
import base64
import collections
import datetime
import json
import os
import re
import struct
import sys
import urllib.parse

TYPE_PREFIX = "io.advocacyd.escalation."
STATUSES = ("firing", "resolved", "repeat", "escalated", "storm")
SEVERITIES = ("critical", "error", "warning", "info")
CONTENT_TYPES = ("application/json", "application/avro")
STRUCTURED_PREFIX = "application/cloudevents+json"
SUMMARY_MAX = 1024
ATTRIBUTE_NAME = re.compile(r"^[a-z0-9]+$")
RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
DEFAULT_SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "schemas",
                              "escalation.avsc")


class RecordError(Exception):
    """A record that breaks the CloudEvents rules or the data contract."""


# --------------------------------------------------------------------------
# Avro schema: named types, JSON form, binary decoding and encoding

class Schema:
    """The Escalation schema with its named types resolved."""

    def __init__(self, text):
        self.root = json.loads(text)
        self.named = {}
        self._register(self.root, self.root.get("namespace", ""))

    def _register(self, s, namespace):
        if isinstance(s, list):
            for branch in s:
                self._register(branch, namespace)
            return
        if not isinstance(s, dict):
            return
        if s["type"] in ("record", "enum", "fixed"):
            namespace = s.get("namespace", namespace)
            self.named[s["name"]] = s
            self.named[namespace + "." + s["name"] if namespace else s["name"]] = s
        for field in s.get("fields", []):
            self._register(field["type"], namespace)
        for key in ("items", "values"):
            if key in s:
                self._register(s[key], namespace)

    def resolve(self, s):
        """Returns the definition of a named type, or s itself."""
        if isinstance(s, str) and s in self.named:
            return self.named[s]
        if isinstance(s, dict) and s["type"] not in ("record", "enum", "array", "map", "fixed"):
            return s["type"]  # a primitive with a logical type
        return s


def check_json_value(schema, s, value, path):
    """Raises RecordError unless value is the JSON form of a value of Avro schema s."""
    s = schema.resolve(s)
    if isinstance(s, list):
        if value is None:
            if "null" not in s:
                raise RecordError(f"{path}: null, expected {s}")
            return
        branches = [b for b in s if b != "null"]
        if len(branches) != 1:
            raise RecordError(f"{path}: union {s} has no single non-null branch")
        check_json_value(schema, branches[0], value, path)
        return
    if isinstance(s, str):
        check_json_primitive(s, value, path)
        return
    kind = s["type"]
    if kind == "record":
        if not isinstance(value, dict):
            raise RecordError(f"{path}: {type(value).__name__}, expected an object")
        names = [f["name"] for f in s["fields"]]
        for field in s["fields"]:
            if field["name"] not in value:
                raise RecordError(f"{path}.{field['name']}: missing")
            check_json_value(schema, field["type"], value[field["name"]],
                             f"{path}.{field['name']}")
        extra = sorted(set(value) - set(names))
        if extra:
            raise RecordError(f"{path}: unexpected fields {extra}")
    elif kind == "enum":
        if not isinstance(value, str) or value.upper() not in s["symbols"] or \
                value != value.lower():
            raise RecordError(f"{path}: {value!r} is not one of {s['symbols']} in lowercase")
    elif kind == "array":
        if not isinstance(value, list):
            raise RecordError(f"{path}: {type(value).__name__}, expected an array")
        for i, item in enumerate(value):
            check_json_value(schema, s["items"], item, f"{path}[{i}]")
    elif kind == "map":
        if not isinstance(value, dict):
            raise RecordError(f"{path}: {type(value).__name__}, expected an object")
        for key, item in value.items():
            check_json_value(schema, s["values"], item, f"{path}.{key}")
    else:
        raise RecordError(f"{path}: schema type {kind} not supported by this checker")


def check_json_primitive(kind, value, path):
    """Raises RecordError unless value is a JSON value of Avro primitive kind."""
    is_int = isinstance(value, int) and not isinstance(value, bool)
    ok = {
        "null": value is None,
        "boolean": isinstance(value, bool),
        "int": is_int and -2**31 <= value < 2**31,
        "long": is_int and -2**63 <= value < 2**63,
        "double": is_int or isinstance(value, float),
        "float": is_int or isinstance(value, float),
        "string": isinstance(value, str),
    }
    if kind not in ok:
        raise RecordError(f"{path}: schema type {kind} not supported by this checker")
    if not ok[kind]:
        raise RecordError(f"{path}: {value!r} is not a {kind}")


class AvroReader:
    """Decodes Avro binary into the JSON form: enums in lowercase, unions as their value."""

    def __init__(self, schema, data):
        self.schema = schema
        self.data = data
        self.pos = 0

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise RecordError(f"avro: datum ends early at byte {self.pos}")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def long(self):
        shift = result = 0
        while True:
            byte = self.take(1)[0]
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return (result >> 1) ^ -(result & 1)
            if shift > 63:
                raise RecordError(f"avro: varint too long at byte {self.pos}")

    def string(self):
        raw = self.take(self.long())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise RecordError(f"avro: string is not UTF-8: {err}") from None

    def blocks(self, read_item):
        """Reads the blocks of an array or map, calling read_item for each item."""
        while True:
            count = self.long()
            if count == 0:
                return
            if count < 0:
                count = -count
                self.long()  # the block's size in bytes
            for _ in range(count):
                read_item()

    def read(self, s):
        s = self.schema.resolve(s)
        if isinstance(s, list):
            index = self.long()
            if not 0 <= index < len(s):
                raise RecordError(f"avro: union branch {index} out of range")
            return self.read(s[index])
        if isinstance(s, str):
            return self.read_primitive(s)
        kind = s["type"]
        if kind == "record":
            return {f["name"]: self.read(f["type"]) for f in s["fields"]}
        if kind == "enum":
            index = self.long()
            if not 0 <= index < len(s["symbols"]):
                raise RecordError(f"avro: enum {s['name']} index {index} out of range")
            return s["symbols"][index].lower()
        if kind == "array":
            items = []
            self.blocks(lambda: items.append(self.read(s["items"])))
            return items
        if kind == "map":
            entries = {}
            self.blocks(lambda: entries.__setitem__(self.string(), self.read(s["values"])))
            return entries
        raise RecordError(f"avro: schema type {kind} not supported by this checker")

    def read_primitive(self, kind):
        if kind == "null":
            return None
        if kind == "boolean":
            return self.take(1) != b"\x00"
        if kind in ("int", "long"):
            return self.long()
        if kind == "double":
            return struct.unpack("<d", self.take(8))[0]
        if kind == "float":
            return struct.unpack("<f", self.take(4))[0]
        if kind == "string":
            return self.string()
        if kind == "bytes":
            return self.take(self.long())
        raise RecordError(f"avro: type {kind} not supported by this checker")


def avro_long(n):
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        if n < 0x80:
            out.append(n)
            return bytes(out)
        out.append((n & 0x7F) | 0x80)
        n >>= 7


def avro_encode(schema, s, value):
    """Encodes a value in the JSON form as Avro binary (for the self-test's records)."""
    s = schema.resolve(s)
    if isinstance(s, list):
        for index, branch in enumerate(s):
            if (value is None) == (branch == "null"):
                return avro_long(index) + avro_encode(schema, branch, value)
        raise ValueError(f"no union branch for {value!r}")
    if isinstance(s, str):
        if s == "null":
            return b""
        if s in ("int", "long"):
            return avro_long(value)
        if s == "double":
            return struct.pack("<d", value)
        if s == "string":
            raw = value.encode("utf-8")
            return avro_long(len(raw)) + raw
        raise ValueError(f"type {s} not supported")
    kind = s["type"]
    if kind == "record":
        return b"".join(avro_encode(schema, f["type"], value[f["name"]]) for f in s["fields"])
    if kind == "enum":
        return avro_long(s["symbols"].index(value.upper()))
    if kind == "array":
        body = b"".join(avro_encode(schema, s["items"], item) for item in value)
        return (avro_long(len(value)) + body if value else b"") + avro_long(0)
    if kind == "map":
        body = b"".join(avro_encode(schema, "string", k) + avro_encode(schema, s["values"], v)
                        for k, v in value.items())
        return (avro_long(len(value)) + body if value else b"") + avro_long(0)
    raise ValueError(f"type {kind} not supported")


# --------------------------------------------------------------------------
# CloudEvents attributes

def headers_of(envelope):
    """Returns the record's headers as a list of (name, value); kcat 1.7.1 writes a flat list."""
    raw = envelope.get("headers")
    if raw is None:
        return []
    if isinstance(raw, dict):
        return list(raw.items())
    if not isinstance(raw, list) or len(raw) % 2:
        raise RecordError(f"headers: {raw!r} is not a list of name, value pairs")
    return list(zip(raw[0::2], raw[1::2]))


def check_rfc3339(text, what):
    """Raises RecordError unless text is an RFC 3339 timestamp; returns it in UTC."""
    if not isinstance(text, str) or not RFC3339.match(text):
        raise RecordError(f"{what}: {text!r} is not an RFC 3339 timestamp")
    try:
        return datetime.datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError as err:
        raise RecordError(f"{what}: {text!r} is not a valid date and time: {err}") from None


def check_attributes(attrs):
    """Checks the CloudEvents 1.0 rules on the context attributes."""
    for name, value in attrs.items():
        if not ATTRIBUTE_NAME.match(name):
            raise RecordError(f"attribute name {name!r} is not lowercase letters and digits")
        if not isinstance(value, str):
            raise RecordError(f"attribute {name}: {value!r} is not a string")
    if attrs.get("specversion") != "1.0":
        raise RecordError(f"specversion: {attrs.get('specversion')!r}, expected '1.0'")
    for name in ("id", "source", "type"):
        if not attrs.get(name):
            raise RecordError(f"required attribute {name} missing or empty")
    try:
        if re.search(r"\s", attrs["source"]):
            raise ValueError("white space")
        urllib.parse.urlsplit(attrs["source"])
    except ValueError as err:
        raise RecordError(f"source: {attrs['source']!r} is not a URI-reference: {err}") from None
    if "time" in attrs:
        check_rfc3339(attrs["time"], "time")
    if "subject" in attrs and not attrs["subject"]:
        raise RecordError("subject: empty")
    if "dataschema" in attrs and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$",
                                              attrs["dataschema"]):
        raise RecordError(f"dataschema: {attrs['dataschema']!r} is not an absolute URI")


def read_binary(envelope, payload):
    """Binary content mode: attributes from ce_ headers, data is the payload."""
    attrs = {}
    for name, value in headers_of(envelope):
        if name.lower() == "content-type":
            attrs["datacontenttype"] = value
        elif name.startswith("ce_"):
            if name[3:] in attrs:
                raise RecordError(f"header {name} appears twice")
            attrs[name[3:]] = value
    return attrs, payload


def read_structured(payload):
    """Structured content mode: the payload is the JSON event."""
    try:
        event = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise RecordError(f"structured event is not JSON: {err}") from None
    if not isinstance(event, dict):
        raise RecordError("structured event is not a JSON object")
    if "data" in event and "data_base64" in event:
        raise RecordError("structured event has both data and data_base64")
    attrs = {k: v for k, v in event.items() if k not in ("data", "data_base64")}
    if "data_base64" in event:
        try:
            data = base64.b64decode(event["data_base64"], validate=True)
        except (TypeError, ValueError) as err:
            raise RecordError(f"data_base64: invalid base64: {err}") from None
        return attrs, data
    return attrs, event.get("data")


# --------------------------------------------------------------------------
# Data

def decode_data(schema, attrs, data):
    """Returns the data in its JSON form, decoding Avro from its Confluent frame."""
    content_type = attrs.get("datacontenttype")
    if content_type not in CONTENT_TYPES:
        raise RecordError(f"datacontenttype: {content_type!r}, expected one of {CONTENT_TYPES}")
    if content_type == "application/json":
        if isinstance(data, (bytes, bytearray)):
            try:
                data = json.loads(data.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as err:
                raise RecordError(f"JSON data is not JSON: {err}") from None
        return data
    if not isinstance(data, (bytes, bytearray)) or len(data) < 6 or data[0] != 0:
        raise RecordError("avro data: no Confluent frame (magic byte 0, 4-byte schema id)")
    schema_id = struct.unpack(">i", data[1:5])[0]
    if "dataschema" in attrs and not attrs["dataschema"].endswith(f":{schema_id}"):
        raise RecordError(f"dataschema {attrs['dataschema']!r} does not name schema id "
                          f"{schema_id} of the frame")
    reader = AvroReader(schema, data[5:])
    value = reader.read(schema.root)
    if reader.pos != len(reader.data):
        raise RecordError(f"avro data: {len(reader.data) - reader.pos} bytes after the datum")
    return value


def check_data(schema, attrs, key, data):
    """Checks the data's types and the rules that tie it to the attributes."""
    check_json_value(schema, schema.root, data, "data")
    status = data["status"]
    if attrs["type"] != TYPE_PREFIX + status:
        raise RecordError(f"type {attrs['type']!r} does not match status {status!r}")
    if attrs.get("subject") != data["dedup_key"]:
        raise RecordError(f"subject {attrs.get('subject')!r} is not the dedup key")
    if key is not None and key != data["dedup_key"]:
        raise RecordError(f"Kafka key {key!r} is not the dedup key {data['dedup_key']!r}")
    if data["source"] != attrs["source"]:
        raise RecordError(f"data source {data['source']!r} is not the event's source")
    if data["severity"] not in SEVERITIES:
        raise RecordError(f"severity {data['severity']!r} is not one of {SEVERITIES}")
    if attrs.get("severity", data["severity"]) != data["severity"]:
        raise RecordError("severity attribute differs from the data's severity")
    if not data["summary"] or len(data["summary"].encode("utf-8")) > SUMMARY_MAX:
        raise RecordError(f"summary empty or longer than {SUMMARY_MAX} bytes")
    if (data["ends_at"] is not None) != (status == "resolved"):
        raise RecordError(f"ends_at {data['ends_at']!r} with status {status}")
    if status != "storm" and (data["held_back"] or data["held_count"]):
        raise RecordError(f"held_back or held_count set with status {status}")
    if status == "firing" and data["condition"] in ("disparity", "bias") and \
            (data["lowest_scope"] is None or data["highest_scope"] is None):
        raise RecordError("a firing disparity event does not name its lowest and highest segment")
    if data["held_count"] < len(data["held_back"]):
        raise RecordError("held_count is smaller than the held_back list")
    time = check_rfc3339(attrs.get("time"), "time")
    if round(time.timestamp() * 1000) != data["emitted_at"]:
        raise RecordError(f"time {attrs['time']} is not emitted_at {data['emitted_at']}")


# --------------------------------------------------------------------------
# Records

def check_record(schema, line):
    """Checks one kcat -J line; returns the event type. Raises RecordError."""
    try:
        envelope = json.loads(line.decode("utf-8", "surrogateescape"))
    except ValueError as err:
        raise RecordError(f"not a kcat JSON envelope: {err}") from None
    payload = envelope.get("payload")
    if not isinstance(payload, str):
        raise RecordError("payload missing or null")
    payload = payload.encode("utf-8", "surrogateescape")
    key = envelope.get("key")

    content_type = dict((n.lower(), v) for n, v in headers_of(envelope)).get("content-type", "")
    # The binding matches the CloudEvents media type case-insensitively.
    if content_type.lower().startswith(STRUCTURED_PREFIX):
        attrs, data = read_structured(payload)
    else:
        attrs, data = read_binary(envelope, payload)
    check_attributes(attrs)
    if not attrs["type"].startswith(TYPE_PREFIX) or \
            attrs["type"][len(TYPE_PREFIX):] not in STATUSES:
        raise RecordError(f"type {attrs['type']!r} is not {TYPE_PREFIX}<status>")
    check_data(schema, attrs, key, decode_data(schema, attrs, data))
    return attrs["type"], attrs["id"]


def record_name(line, number):
    try:
        e = json.loads(line.decode("utf-8", "surrogateescape"))
        return f"{e.get('topic')}[{e.get('partition')}]@{e.get('offset')}"
    except ValueError:
        return f"line {number}"


def check_lines(schema, lines):
    """Checks every non-empty line; returns the summary."""
    by_type = collections.Counter()
    ids = collections.Counter()
    errors = []
    records = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        records += 1
        try:
            event_type, event_id = check_record(schema, line)
        except RecordError as err:
            errors.append(f"{record_name(line, number)}: {err}")
            continue
        by_type[event_type] += 1
        ids[event_id] += 1
    return {"records": records, "by_type": dict(sorted(by_type.items())),
            "duplicate_ids": sum(n - 1 for n in ids.values()), "errors": errors}


# --------------------------------------------------------------------------
# Self-test

def sample_data(status="firing"):
    """The data of a valid event of the given status, in the JSON form."""
    storm = status == "storm"
    data = {
        "dedup_key": "storm/people-team" if storm else "recognition_low/team:Payments",
        "status": status,
        "summary": "Peer recognition rate for team:Payments is 0.31, below 0.50",
        "severity": "warning", "source": "/advocacyd/test",
        "rule_id": "" if storm else "recognition_low", "rule_version": "0123456789abcdef",
        "condition": None if storm else "threshold", "direction": None if storm else "below",
        "kpi": "" if storm else "recognition_rate",
        "kpi_name": "" if storm else "Peer recognition rate",
        "quadrant": None if storm else "learning_growth",
        "scope": "people-team" if storm else "team:Payments", "window": "" if storm else "7d",
        "owner": None if storm else "people-team", "route": "people-team", "tier": 1,
        "runbook_url": None, "labels": {} if storm else {"team": "people"},
        "observed": None if storm else 0.31, "threshold": None if storm else 0.5,
        "resolve_threshold": None if storm else 0.55, "target": None if storm else 0.6,
        "baseline": None, "lowest_scope": None, "highest_scope": None,
        "starts_at": 1700000000000, "ends_at": 1700000060123 if status == "resolved" else None,
        "emitted_at": 1700000060123, "sequence": 0,
        "held_back": ["a/team:X", "b/team:Y"] if storm else [], "held_count": 2 if storm else 0,
    }
    return data


def sample_attributes(data, content_type, sequence=0):
    """The attributes of data's event; sequence makes the id unique among the samples."""
    attrs = {"specversion": "1.0",
             "id": f"{data['dedup_key']}/1700000000000/{data['status']}/{sequence}",
             "source": "/advocacyd/test", "type": TYPE_PREFIX + data["status"],
             "time": "2023-11-14T22:14:20.123Z", "subject": data["dedup_key"],
             "datacontenttype": content_type, "severity": data["severity"],
             "dedupkey": data["dedup_key"]}
    if content_type == "application/avro":
        attrs["dataschema"] = "urn:advocacyd:schema:io.advocacyd.Escalation:2"
    return attrs


def framed_avro(schema, data, schema_id=2):
    return b"\x00" + struct.pack(">i", schema_id) + avro_encode(schema, schema.root, data)


def kcat_line(key, headers, payload, offset=0):
    """Writes a record the way kcat -J does: raw bytes of 0x80 and above stay raw."""
    envelope = {"topic": "advocacy.escalations", "partition": 0, "offset": offset,
                "tstype": "create", "ts": 1700000060200, "broker": 1,
                "headers": [x for pair in headers for x in pair], "key": key,
                "payload": payload.decode("utf-8", "surrogateescape")}
    return json.dumps(envelope, ensure_ascii=False).encode("utf-8", "surrogateescape")


def binary_record(schema, data, avro=True, attrs=None, key=None, payload=None, sequence=0):
    content_type = "application/avro" if avro else "application/json"
    attrs = attrs if attrs is not None else sample_attributes(data, content_type, sequence)
    headers = [("content-type" if n == "datacontenttype" else "ce_" + n, v)
               for n, v in attrs.items()]
    if payload is None:
        payload = framed_avro(schema, data) if avro else json.dumps(data).encode()
    return kcat_line(data["dedup_key"] if key is None else key, headers, payload)


def structured_record(schema, data, avro=False, event=None, sequence=0):
    content_type = "application/avro" if avro else "application/json"
    if event is None:
        event = sample_attributes(data, content_type, sequence)
        if avro:
            event["data_base64"] = base64.b64encode(framed_avro(schema, data)).decode()
        else:
            event["data"] = data
    headers = [("content-type", STRUCTURED_PREFIX + "; charset=UTF-8")]
    return kcat_line(data["dedup_key"], headers, json.dumps(event).encode())


def good_records(schema):
    records = []
    for status in STATUSES:
        data = sample_data(status)
        records.append((f"binary avro {status}", binary_record(schema, data, True, sequence=1)))
        records.append((f"binary json {status}", binary_record(schema, data, False, sequence=2)))
        records.append((f"structured avro {status}",
                        structured_record(schema, data, True, sequence=3)))
        records.append((f"structured json {status}",
                        structured_record(schema, data, False, sequence=4)))
    data = sample_data()
    data["baseline"] = {"mean": 0.875, "stddev": 0.125}
    data["summary"] = "Résumé " + "é" * 500
    records.append(("binary avro with baseline and UTF-8", binary_record(schema, data)))
    return records


def bad_records(schema):
    """(name, record, text the error must contain) for records that must be rejected."""
    data = sample_data()
    attrs = sample_attributes(data, "application/avro")
    bad = []

    def without(name):
        return {k: v for k, v in attrs.items() if k != name}

    def changed(**kw):
        return {**attrs, **kw}

    def data_with(**kw):
        return {**data, **kw}

    bad.append(("no id", binary_record(schema, data, attrs=without("id")), "id"))
    bad.append(("no source", binary_record(schema, data, attrs=without("source")), "source"))
    bad.append(("no type", binary_record(schema, data, attrs=without("type")), "type"))
    bad.append(("no specversion", binary_record(schema, data, attrs=without("specversion")),
                "specversion"))
    bad.append(("specversion 0.3", binary_record(schema, data, attrs=changed(specversion="0.3")),
                "specversion"))
    bad.append(("empty id", binary_record(schema, data, attrs=changed(id="")), "id"))
    bad.append(("attribute with capitals",
                binary_record(schema, data, attrs={**attrs, "dedupKey": "x"}), "dedupKey"))
    bad.append(("attribute with underscore",
                binary_record(schema, data, attrs={**attrs, "dedup_key": "x"}), "dedup_key"))
    bad.append(("time without zone",
                binary_record(schema, data, attrs=changed(time="2023-11-14T22:14:20.123")),
                "RFC 3339"))
    bad.append(("time 25 o'clock",
                binary_record(schema, data, attrs=changed(time="2023-11-14T25:14:20Z")),
                "valid date"))
    bad.append(("time is not emitted_at",
                binary_record(schema, data, attrs=changed(time="2023-11-14T22:14:21.123Z")),
                "emitted_at"))
    bad.append(("unknown type",
                binary_record(schema, data, attrs=changed(type="io.advocacyd.escalation.x")),
                "type"))
    bad.append(("type and status differ",
                binary_record(schema, data, attrs=changed(type=TYPE_PREFIX + "resolved")),
                "status"))
    bad.append(("text/plain data",
                binary_record(schema, data, attrs=changed(datacontenttype="text/plain")),
                "datacontenttype"))
    bad.append(("key is not the dedup key", binary_record(schema, data, key="other"),
                "Kafka key"))
    bad.append(("subject is not the dedup key",
                binary_record(schema, data, attrs=changed(subject="other")), "subject"))
    bad.append(("no Confluent frame",
                binary_record(schema, data, payload=avro_encode(schema, schema.root, data)),
                "frame"))
    bad.append(("truncated Avro",
                binary_record(schema, data, payload=framed_avro(schema, data)[:-3]), "ends early"))
    bad.append(("bytes after the Avro datum",
                binary_record(schema, data, payload=framed_avro(schema, data) + b"\x00"),
                "after the datum"))
    bad.append(("dataschema names another id",
                binary_record(schema, data, payload=framed_avro(schema, data, schema_id=7)),
                "schema id"))
    missing = {k: v for k, v in data.items() if k != "severity"}
    bad.append(("JSON data without severity",
                binary_record(schema, data, avro=False, payload=json.dumps(missing).encode()),
                "severity: missing"))
    bad.append(("JSON data with a string tier",
                binary_record(schema, data, avro=False,
                              payload=json.dumps(data_with(tier="1")).encode()), "tier"))
    bad.append(("JSON data with an uppercase enum",
                binary_record(schema, data, avro=False,
                              payload=json.dumps(data_with(quadrant="CUSTOMER")).encode()),
                "quadrant"))
    bad.append(("JSON data with an extra field",
                binary_record(schema, data, avro=False,
                              payload=json.dumps(data_with(extra=1)).encode()), "unexpected"))
    bad.append(("firing with ends_at",
                binary_record(schema, data_with(ends_at=1700000060123)), "ends_at"))
    bad.append(("firing with held_back",
                binary_record(schema, data_with(held_back=["a"], held_count=1)), "held_back"))
    bad.append(("firing disparity without segments",
                binary_record(schema, data_with(condition="disparity")), "lowest and highest"))
    bad.append(("unknown severity",
                binary_record(schema, data_with(severity="fatal"),
                              attrs=changed(severity="fatal")), "severity"))
    bad.append(("summary over 1024 bytes",
                binary_record(schema, data_with(summary="é" * 513)), "summary"))
    both = {**sample_attributes(data, "application/json"), "data": data, "data_base64": "AA=="}
    bad.append(("structured with data and data_base64",
                structured_record(schema, data, event=both), "both"))
    number = {**sample_attributes(data, "application/json"), "data": data, "id": 7}
    bad.append(("structured with a numeric id", structured_record(schema, data, event=number),
                "not a string"))
    bad.append(("not JSON", b"{not json", "envelope"))
    return bad


def self_test(schema):
    failures = []
    for name, record in good_records(schema):
        summary = check_lines(schema, [record])
        if summary["errors"]:
            failures.append(f"good record '{name}' rejected: {summary['errors']}")
    for name, record, expected in bad_records(schema):
        summary = check_lines(schema, [record])
        if not summary["errors"]:
            failures.append(f"bad record '{name}' accepted")
        elif expected not in summary["errors"][0]:
            failures.append(f"bad record '{name}': error {summary['errors'][0]!r} "
                            f"does not mention {expected!r}")
    lines = [r for _, r in good_records(schema)]
    summary = check_lines(schema, lines + lines[:1])
    if summary["records"] != len(lines) + 1 or summary["duplicate_ids"] != 1:
        failures.append(f"summary of the good records is wrong: {summary}")
    print(json.dumps({"good": len(good_records(schema)), "bad": len(bad_records(schema)),
                      "failures": failures}, indent=2))
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(
        description="Check kcat -J records of advocacy.escalations against CloudEvents 1.0 "
                    "and the Escalation data contract.")
    parser.add_argument("files", nargs="*", default=["-"],
                        help="files of kcat -C -J output, one record per line; - for stdin")
    parser.add_argument("--schema", default=DEFAULT_SCHEMA,
                        help="Escalation Avro schema (default: schemas/escalation.avsc)")
    parser.add_argument("--self-test", action="store_true",
                        help="check built-in good and bad records instead of input")
    args = parser.parse_args()

    try:
        with open(args.schema, encoding="utf-8") as f:
            schema = Schema(f.read())
    except (OSError, ValueError, KeyError) as err:
        print(f"cannot read the Escalation schema {args.schema}: {err}", file=sys.stderr)
        return 2
    if args.self_test:
        return self_test(schema)

    lines = []
    for path in args.files:
        try:
            if path == "-":
                lines.extend(sys.stdin.buffer.read().split(b"\n"))
            else:
                with open(path, "rb") as f:
                    lines.extend(f.read().split(b"\n"))
        except OSError as err:
            print(f"cannot read {path}: {err}", file=sys.stderr)
            return 2
    summary = check_lines(schema, lines)
    print(json.dumps(summary, indent=2))
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
