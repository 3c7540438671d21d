"""A local fake of the Hugging Face Hub endpoints `create_repo` + `upload_folder` call.

Stdlib ThreadingHTTPServer on 127.0.0.1:0. It records every request, keeps the files a commit
uploads (inline base64 or LFS objects PUT beforehand), and can answer one route with an error.
Routes (huggingface_hub 2.4.0, see /work/notes/targets_hf.md §1): POST /api/repos/create,
POST /api/validate-yaml, POST /api/datasets/<ns>/<name>/preupload/<rev>,
POST /datasets/<ns>/<name>.git/info/lfs/objects/batch, PUT /__lfs/<oid>,
POST /api/datasets/<ns>/<name>/commit/<rev>. Anything else: 404.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class HubState:
    requests: list[dict] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)  # committed path -> bytes
    lfs: dict[str, bytes] = field(default_factory=dict)  # oid -> bytes
    lfs_suffix: str | None = None  # files ending with this are answered "lfs" at preupload
    fail: dict[str, tuple[int, dict]] = field(default_factory=dict)  # route name -> (status, body)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: HubState

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, code: int, body: Any = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self) -> None:
        path = self.path.split("?")[0]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        base = f"http://{self.headers['Host']}"
        name = self._name(path)
        self.state.requests.append({"method": self.command, "path": path, "route": name,
                                    "auth": self.headers.get("Authorization"), "body": body})
        if name in self.state.fail:
            status, reply = self.state.fail[name]
            return self._send(status, reply)
        handler = getattr(self, f"_do_{name}", None)
        if handler is None:
            return self._send(404, {"error": f"no route {self.command} {path}"})
        return handler(path, body, base)

    def _name(self, path: str) -> str:
        routes = [("create", r"/api/repos/create"), ("validate_yaml", r"/api/validate-yaml"),
                  ("preupload", r"/api/datasets/[^/]+/[^/]+/preupload/.+"),
                  ("lfs_batch", r"/datasets/[^/]+/[^/]+\.git/info/lfs/objects/batch"),
                  ("lfs_put", r"/__lfs/[0-9a-f]{64}"),
                  ("commit", r"/api/datasets/[^/]+/[^/]+/commit/.+")]
        return next((n for n, pattern in routes if re.fullmatch(pattern, path)), "unknown")

    def _do_create(self, path: str, body: bytes, base: str) -> None:
        req = json.loads(body)
        repo = f"{req.get('organization') or 'user'}/{req['name']}"
        self._send(200, {"url": f"{base}/datasets/{repo}", "name": repo, "id": "0" * 24})

    def _do_validate_yaml(self, path: str, body: bytes, base: str) -> None:
        self._send(200, {"errors": [], "warnings": []})

    def _do_preupload(self, path: str, body: bytes, base: str) -> None:
        suffix = self.state.lfs_suffix
        files = [{"path": f["path"], "shouldIgnore": False, "oid": None,
                  "uploadMode": "lfs" if suffix and f["path"].endswith(suffix) else "regular"}
                 for f in json.loads(body)["files"]]
        self._send(200, {"files": files, "commitOid": "0" * 40})

    def _do_lfs_batch(self, path: str, body: bytes, base: str) -> None:
        objects = [{"oid": o["oid"], "size": o["size"], "actions": {
            "upload": {"href": f"{base}/__lfs/{o['oid']}", "header": {}}}}
            for o in json.loads(body)["objects"]]
        self._send(200, {"transfer": "basic", "objects": objects})

    def _do_lfs_put(self, path: str, body: bytes, base: str) -> None:
        oid = path.rsplit("/", 1)[1]
        if hashlib.sha256(body).hexdigest() != oid:
            return self._send(400, {"error": "sha256 mismatch"})
        self.state.lfs[oid] = body
        self._send(200, {})

    def _do_commit(self, path: str, body: bytes, base: str) -> None:
        for line in (json.loads(raw) for raw in body.splitlines() if raw.strip()):
            value = line["value"]
            if line["key"] == "file":
                self.state.files[value["path"]] = base64.b64decode(value["content"])
            elif line["key"] == "lfsFile":
                if value["oid"] not in self.state.lfs:
                    return self._send(422, {"error": "missing LFS object"})
                self.state.files[value["path"]] = self.state.lfs[value["oid"]]
        oid = hashlib.sha1(json.dumps(sorted(self.state.files)).encode()).hexdigest()
        repo = "/".join(path.split("/")[3:5])
        self._send(200, {"success": True, "commitOid": oid, "pullRequestUrl": None,
                         "commitUrl": f"{base}/datasets/{repo}/commit/{oid}"})

    do_GET = do_POST = do_PUT = do_HEAD = _route


class FakeHub:
    """Context manager: `with FakeHub() as hub: hub.url, hub.state`."""

    def __init__(self) -> None:
        self.state = HubState()
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeHub:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def routes(self) -> list[str]:
        return [r["route"] for r in self.state.requests]
