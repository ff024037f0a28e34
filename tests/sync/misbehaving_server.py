"""A tiny HTTP server that misbehaves on purpose (run as a subprocess by tests/sync/conftest.py).

    python tests/sync/misbehaving_server.py --fd N [--upstream http://127.0.0.1:PORT]

The first path segment picks the behaviour; the rest of the path is ignored, so a client
with base URL ``http://host:port/garbage`` gets garbage for every call:

- ``/garbage``    200, Content-Type JSON, a body that is not JSON
- ``/list``       200, a JSON array instead of an object
- ``/error500``   500 with an HTML page
- ``/error503``   503 with the marketplace's error shape
- ``/html404``    404 with an HTML page (not a marketplace)
- ``/redirect``   301 to another address
- ``/hangup``     reads the request, closes the connection without a word
- ``/stall``      reads the request, never answers
- ``/truncated``  announces 5000 bytes, sends 1000, closes
- ``/slow``       announces 200 000 bytes and sends 1000 every 50 ms
- ``/proxy``      forwards the request (prefix stripped) to ``--upstream`` and relays the
                  answer — unless a drop rule matches: then the request is forwarded, the
                  upstream's whole answer read (the server has done the work), and the client's
                  connection closed without an answer: "the answer was lost".

Control: ``POST /__control/drop`` with ``{"method", "path_regex", "count"}`` adds a rule;
``GET /__control/stats`` answers ``{"forwarded": [[method, path, dropped], …]}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import socket
from urllib.parse import urlsplit

RULES: list[dict] = []
FORWARDED: list[list] = []
UPSTREAM: tuple[str, int] | None = None


async def read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict, bytes] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = b""
    length = int(headers.get("content-length", "0") or 0)
    if length:
        body = await reader.readexactly(length)
    return method, target, headers, body


def response(status: str, body: bytes, content_type: str = "application/json",
             extra: str = "") -> bytes:
    return (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n{extra}\r\n").encode() + body


async def forward(method: str, path: str, headers: dict, body: bytes) -> bytes:
    host, port = UPSTREAM
    reader, writer = await asyncio.open_connection(host, port)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close",
             f"Content-Length: {len(body)}"]
    for name, value in headers.items():
        if name not in ("host", "connection", "content-length", "keep-alive",
                        "transfer-encoding"):
            lines.append(f"{name}: {value}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()
    answer = await reader.read()  # until the upstream closes (Connection: close)
    writer.close()
    return answer


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        request = await read_request(reader)
        if request is None:
            return
        method, target, headers, body = request
        path = target.split("?", 1)[0]
        mode = path.strip("/").split("/", 1)[0]
        if mode == "__control":
            if path.endswith("/drop"):
                RULES.append(json.loads(body))
                writer.write(response("200 OK", b'{"ok": true}'))
            else:
                writer.write(response("200 OK", json.dumps({"forwarded": FORWARDED}).encode()))
        elif mode == "garbage":
            writer.write(response("200 OK", b"<html>this is not json {"))
        elif mode == "list":
            writer.write(response("200 OK", b"[1, 2, 3]"))
        elif mode == "error500":
            writer.write(response("500 Internal Server Error",
                                  b"<html><h1>Internal Server Error</h1></html>", "text/html"))
        elif mode == "error503":
            writer.write(response("503 Service Unavailable", json.dumps(
                {"detail": "The database is busy or unavailable; retry shortly.",
                 "code": "unavailable"}).encode(), extra="Retry-After: 2\r\n"))
        elif mode == "html404":
            writer.write(response("404 Not Found", b"<html>Not here</html>", "text/html"))
        elif mode == "redirect":
            writer.write(response("301 Moved Permanently", b"", "text/plain",
                                  extra="Location: https://elsewhere.example/\r\n"))
        elif mode == "hangup":
            pass
        elif mode == "stall":
            await asyncio.sleep(3600)
        elif mode == "truncated":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 5000\r\nConnection: close\r\n\r\n" + b"{" * 1000)
        elif mode == "slow":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 200000\r\nConnection: close\r\n\r\n")
            for _ in range(200):
                writer.write(b" " * 1000)
                await writer.drain()
                await asyncio.sleep(0.05)
        elif mode == "proxy":
            upstream_path = target[len("/proxy"):] or "/"
            rule = next((r for r in RULES if r["count"] > 0 and r["method"] == method
                         and re.fullmatch(r["path_regex"], upstream_path.split("?")[0])),
                        None)
            answer = await forward(method, upstream_path, headers, body)
            FORWARDED.append([method, upstream_path, rule is not None])
            if rule is not None:
                rule["count"] -= 1  # the work is done upstream; the answer is lost
            else:
                writer.write(answer)
        else:
            writer.write(response("404 Not Found", b'{"detail": "no such mode", '
                                  b'"code": "not_found"}'))
        await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main() -> None:
    global UPSTREAM
    parser = argparse.ArgumentParser()
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--upstream")
    args = parser.parse_args()
    if args.upstream:
        parts = urlsplit(args.upstream)
        UPSTREAM = (parts.hostname, parts.port)
    sock = socket.socket(fileno=args.fd)
    server = await asyncio.start_server(handle, sock=sock)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
