"""A small web site on a free loopback port, for browser tests of connectors and engine.

Pages: ``/locators`` (one element per locator strategy, look-alikes for ambiguity, an iframe,
a table, form controls, a download link), ``/frame``, ``/second``, ``/login`` (a POST form),
``/flaky?key=K`` (the button appears from the second request for K on), ``/download/*``,
``/status/N`` and ``/hang`` (starts to render, never finishes loading while the site runs).

On ``/locators``, ``showLater(ms)`` adds a button ``#later-btn`` ``ms`` after the call, which
reads "Geklickt" once clicked: a test calls it just before an action, so the action has to
wait for an element that is not there yet, and the page shows whether it was acted on.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

LOCATORS = """<!doctype html><html><head><meta charset="utf-8"><title>Locators</title></head>
<body>
<h1>Locators</h1>
<button id="save1">Speichern</button>
<button id="save2">Speichern und weiter</button>
<label for="az">Aktenzeichen</label><input id="az" value="AZ-1">
<input placeholder="Suche" value="search-value">
<span data-testid="vorgang-nummer">GA-2025-0001</span>
<p class="note">Hinweis eins</p><p class="note">Hinweis zwei</p>
<div id="box1" class="box"><span class="v">eins</span></div>
<div id="box2" class="box"><span class="v">zwei</span></div>
<iframe id="frm" src="/frame" title="Rahmen"></iframe>
<table aria-label="Posteingang">
  <thead><tr><th>Nummer</th><th>Status</th></tr></thead>
  <tbody><tr><td>GA-1</td><td>Neu</td></tr><tr><td>GA-2</td><td>Erledigt</td></tr></tbody>
</table>
<select id="rf" aria-label="Rechtsform">
  <option value="gmbh">GmbH</option><option value="ek">Einzelunternehmen</option>
</select>
<input type="checkbox" id="cb"><label for="cb">Eilig</label>
<input id="keys" aria-label="Tasten"><div id="pressed"></div>
<a href="/download/bericht.csv">Bericht herunterladen</a>
<input type="file" id="upl" aria-label="Datei"><div id="files"></div>
<div id="late"></div>
<div id="later"></div>
<a href="/second">Weiter</a>
<button id="locked" disabled>Gesperrt</button>
<script>
document.getElementById('keys').addEventListener('keydown', (e) => {
  document.getElementById('pressed').textContent = 'pressed ' + e.key;
});
document.getElementById('upl').addEventListener('change', (e) => {
  document.getElementById('files').textContent =
    Array.from(e.target.files).map((f) => f.name).join(',');
});
setTimeout(() => {
  document.getElementById('late').innerHTML = '<button id="late-btn">Später</button>';
}, 300);
function showLater(ms) {
  setTimeout(() => {
    const button = document.createElement('button');
    button.id = 'later-btn';
    button.textContent = 'Noch später';
    button.addEventListener('click', () => { button.textContent = 'Geklickt'; });
    document.getElementById('later').append(button);
  }, ms);
}
</script>
</body></html>"""

FRAME = """<!doctype html><html><body><button>Im Rahmen</button>
<span id="inner">frame-text</span></body></html>"""

SECOND = """<!doctype html><html><head><title>Zweite</title></head>
<body><h1>Zweite Seite</h1></body></html>"""

LOGIN = """<!doctype html><html><head><meta charset="utf-8"><title>Anmeldung</title></head>
<body><form method="post" action="/login">
<label for="user">Benutzername</label><input id="user" name="user">
<label for="pw">Passwort</label><input id="pw" name="password" type="password">
<button type="submit">Anmelden</button>
</form></body></html>"""

WELCOME = """<!doctype html><html><head><meta charset="utf-8"><title>Start</title></head>
<body><h1>Willkommen</h1><p id="who">Angemeldet als {user}</p></body></html>"""

FLAKY_NOT_READY = """<!doctype html><html><body><p>Bitte warten</p></body></html>"""
FLAKY_READY = """<!doctype html><html><body><button>Bereit</button></body></html>"""
HANGING = """<!doctype html><html><head><meta charset="utf-8"><title>Lädt</title></head>
<body><h1>Lädt ...</h1>"""


class Site:
    """The running site: ``base_url`` and per-key request counts of ``/flaky``."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.flaky_hits: Counter[str] = Counter()
        self.posts: list[bytes] = []
        self.stopping = threading.Event()  # releases the requests ``/hang`` holds


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(
            self, body: str | bytes, status: int = 200, ctype: str = "text/html; charset=utf-8",
            headers: dict[str, str] | None = None,
        ) -> None:  # fmt: skip
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = parse_qs(url.query)
            pages = {"/locators": LOCATORS, "/frame": FRAME, "/second": SECOND, "/login": LOGIN}
            if url.path in pages:
                self._send(pages[url.path])
            elif url.path == "/flaky":
                key = query.get("key", ["default"])[0]
                site.flaky_hits[key] += 1
                ready = site.flaky_hits[key] >= 2
                self._send(FLAKY_READY if ready else FLAKY_NOT_READY)
            elif url.path.startswith("/download/"):
                name = url.path.rsplit("/", 1)[-1]
                self._send(
                    "Nummer;Status\nGA-1;Neu\n",
                    ctype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'},
                )
            elif url.path.startswith("/status/"):
                code = int(url.path.rsplit("/", 1)[-1])
                self._send(f"<h1>Status {code}</h1>", status=code)
            elif url.path == "/hang":
                self._hang()
            else:
                self._send("<h1>Not found</h1>", status=404)

        def _hang(self) -> None:
            # No Content-Length: the body ends when the connection closes, which it does
            # only when the site stops, so the page never fires its load event.
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(HANGING.encode())
            self.wfile.flush()
            site.stopping.wait()
            self.close_connection = True

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            site.posts.append(body)
            form = parse_qs(body.decode())
            user = form.get("user", [""])[0]
            self._send(WELCOME.format(user=user))

    return Handler


@contextmanager
def serve_site() -> Iterator[Site]:
    """Serve the site on 127.0.0.1 and a free port while the block runs."""
    site = Site("")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    site.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.stopping.set()
        server.shutdown()
        server.server_close()
