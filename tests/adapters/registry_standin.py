#!/usr/bin/env python3
"""A stand-in for the few Confluent Schema Registry endpoints advocacyd uses.

The real Schema Registry is a Java service that is not available here. This
serves, on 127.0.0.1 only:
  GET  /schemas/ids/<id>              -> 200 {"schema": "..."} or 404 (error_code 40403)
  POST /subjects/<subject>/versions   {"schema": "..."} -> 200 {"id": N}
Ids of registered schemas start at --first-id; registering the same text under
a subject again returns its id, as the real registry does.

Usage: registry_standin.py --port-file FILE --log FILE [--first-id N] [ID=PATH.avsc ...]
Preloaded schemas are given as ID=PATH. Every request is appended to --log as
one line "METHOD PATH". The port it listens on is written to --port-file.
"""
import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


class Registry:
    def __init__(self, first_id):
        self.schemas = {}      # id -> text
        self.by_text = {}      # text -> id
        self.subjects = {}     # subject -> [ids]
        self.next_id = first_id

    def register(self, subject, text):
        schema_id = self.by_text.get(text)
        if schema_id is None:
            schema_id = self.next_id
            self.next_id += 1
            self.schemas[schema_id] = text
            self.by_text[text] = schema_id
        versions = self.subjects.setdefault(subject, [])
        if schema_id not in versions:
            versions.append(schema_id)
        return schema_id


def make_handler(registry, log_path):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):
            pass

        def note(self):
            with open(log_path, "a") as log:
                log.write(f"{self.command} {self.path}\n")

        def reply(self, code, doc):
            body = json.dumps(doc).encode()
            self.send_response(code)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self.note()
            parts = self.path.strip("/").split("/")
            if len(parts) == 3 and parts[:2] == ["schemas", "ids"] and parts[2].isdigit():
                text = registry.schemas.get(int(parts[2]))
                if text is not None:
                    return self.reply(200, {"schema": text})
                return self.reply(404, {"error_code": 40403, "message": "Schema not found"})
            self.reply(404, {"error_code": 404, "message": "HTTP 404 Not Found"})

        def do_POST(self):
            self.note()
            parts = self.path.strip("/").split("/")
            length = int(self.headers.get("Content-Length", "0"))
            try:
                doc = json.loads(self.rfile.read(length))
                text = doc["schema"]
                json.loads(text)
            except (ValueError, KeyError, TypeError):
                return self.reply(422, {"error_code": 42201, "message": "Invalid schema"})
            if len(parts) == 3 and parts[0] == "subjects" and parts[2] == "versions":
                return self.reply(200, {"id": registry.register(parts[1], text)})
            self.reply(404, {"error_code": 404, "message": "HTTP 404 Not Found"})

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--first-id", type=int, default=1)
    ap.add_argument("preload", nargs="*", help="ID=PATH.avsc")
    args = ap.parse_args()

    registry = Registry(args.first_id)
    for item in args.preload:
        schema_id, path = item.split("=", 1)
        with open(path) as f:
            text = f.read()
        registry.schemas[int(schema_id)] = text
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(registry, args.log))
    with open(args.port_file + ".part", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.port_file + ".part", args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
