"""The Hundesteuer register's desktop client: a GTK 3 application in the manner of a finance
application's thick client, talking to the sandbox's register server.

    hundesteuer-client --server http://127.0.0.1:8765/hundesteuer [--font-scale 1.5]

A login window ("Hundesteuer – Anmeldung"), the register ("Hundesteuer – Register": a search
and its hits), and an entry form ("Hund anmelden": text fields, a breed combo box with an
entry, dates, check boxes). Saving asks first ("Bestätigung"), then shows "Bitte warten"
while the server saves, then the Steuernummer ("Gespeichert") or why not ("Fehler": the
server did not answer; "Bereits erfasst": the Bezugszeichen is taken; "Eingaben prüfen":
what the server refused). Fields accept Latin-1 only, as the register stores it.

Every control has an accessible name (its label) and id (``hst-FIELD``), so bots find it
by role and name; everything is reachable by keys too (mnemonics, Tab, Enter), for a bot that
sees only pixels: started with ``NO_AT_BRIDGE=1`` it has no accessibility tree at all, as a
Fachverfahren behind a terminal server. ``--font-scale`` draws it larger (another DPI).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import threading
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable
from typing import Any

#: The form's text fields: key -> label with its mnemonic (the server's FELDER, by key).
#: Every mnemonic of the form is its own (Alt+T: Straße, Alt+S: Speichern), for bots by keys.
FORM = (
    ("bezugszeichen", "_Bezugszeichen"),
    ("nachname", "_Nachname"),
    ("vorname", "_Vorname"),
    ("strasse", "S_traße und Hausnummer"),
    ("plz", "_PLZ"),
    ("ort", "_Ort"),
    ("hundename", "Name des _Hundes"),
    ("rasse", "R_asse"),
    ("wurfdatum", "_Wurfdatum"),
    ("haltung_seit", "Haltung s_eit"),
)
DATES = {"wurfdatum", "haltung_seit"}
CHECKS = (("zweithund", "_Zweithund"), ("ermaessigung", "Er_mäßigung beantragt"))
COLUMNS = ("Steuernummer", "Bezugszeichen", "Halter", "Hund", "Rasse")
UNAVAILABLE = "Der Server antwortet nicht ({status}). Bitte später erneut versuchen."


class Api:
    """The register server's JSON calls, with the login's cookie."""

    def __init__(self, server: str) -> None:
        self.server = server.rstrip("/")
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def call(self, method: str, path: str, data: dict[str, Any] | None = None) -> tuple[int, Any]:
        """(HTTP status, JSON answer); status 0 when the server cannot be reached."""
        body = json.dumps(data).encode() if data is not None else None
        request = urllib.request.Request(
            f"{self.server}/api/{path}", data=body, method=method,
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        try:
            with self._opener.open(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                return exc.code, json.loads(exc.read() or b"{}")
            except ValueError:
                return exc.code, {}
        except (OSError, ValueError):
            return 0, {}


def _not_latin1(text: str) -> str:
    return "".join(dict.fromkeys(c for c in text if ord(c) > 0xFF))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="hundesteuer-client", description=__doc__.split("\n")[0])
    parser.add_argument("--server", required=True, help="The register server's URL.")
    parser.add_argument("--font-scale", type=float, default=1.0, help="Draw it larger (1.5).")
    args = parser.parse_args(argv)
    if args.font_scale != 1.0:
        os.environ["GDK_DPI_SCALE"] = str(args.font_scale)  # read when GTK starts
    import gi

    gi.require_version("Gtk", "3.0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImportWarning)
        from gi.repository import GLib, Gtk

    Client(Api(args.server), Gtk, GLib).start()
    Gtk.main()


class Client:
    """The client's windows and what their buttons do (see the module docstring)."""

    def __init__(self, api: Api, gtk: Any, glib: Any) -> None:
        self.api, self.Gtk, self.GLib = api, gtk, glib
        self.main: Any = None

    # ----------------------------------------------------------------- helpers

    def name(self, widget: Any, name: str, ident: str) -> Any:
        accessible = widget.get_accessible()
        accessible.set_name(name)
        accessible.set_accessible_id(ident)
        return widget

    def message(self, parent: Any, title: str, text: str, kind: str = "ERROR") -> None:
        dialog = self.Gtk.MessageDialog(
            transient_for=parent, modal=True, message_type=getattr(self.Gtk.MessageType, kind),
            buttons=self.Gtk.ButtonsType.NONE, text=text,
        )  # fmt: skip
        dialog.set_title(title)
        dialog.get_accessible().set_name(title)  # GTK names it after its kind ("Error")
        shown = dialog.get_message_area().get_children()[0]
        shown.get_accessible().set_accessible_id("hst-nachricht")
        dialog.add_button("_OK", self.Gtk.ResponseType.OK)
        dialog.set_default_response(self.Gtk.ResponseType.OK)
        dialog.run()
        dialog.destroy()

    def ask(self, parent: Any, title: str, text: str) -> bool:
        dialog = self.Gtk.MessageDialog(
            transient_for=parent, modal=True, message_type=self.Gtk.MessageType.QUESTION,
            buttons=self.Gtk.ButtonsType.NONE, text=text,
        )  # fmt: skip
        dialog.set_title(title)
        dialog.get_accessible().set_name(title)
        dialog.add_button("_Nein", self.Gtk.ResponseType.NO)
        dialog.add_button("_Ja", self.Gtk.ResponseType.YES)
        dialog.set_default_response(self.Gtk.ResponseType.YES)
        answer = dialog.run()
        dialog.destroy()
        return bool(answer == self.Gtk.ResponseType.YES)

    def waiting(self, parent: Any, work: Callable[[], tuple[int, Any]]) -> tuple[int, Any]:
        """Run ``work`` in a thread while "Bitte warten" shows; its answer."""
        Gtk = self.Gtk
        window = Gtk.Window(title="Bitte warten", transient_for=parent, modal=True)
        window.set_default_size(320, 90)
        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=8, margin=16)
        box.add(Gtk.Label(label="Bitte warten … Die Daten werden gespeichert."))
        bar = Gtk.ProgressBar()
        box.add(bar)
        window.add(box)
        window.show_all()
        done: list[tuple[int, Any]] = []
        thread = threading.Thread(target=lambda: done.append(work()), daemon=True)
        thread.start()
        ticks = 0
        while not done:
            Gtk.main_iteration_do(False)
            ticks += 1
            if ticks % 2000 == 0:
                bar.pulse()
            if not Gtk.events_pending():
                thread.join(0.02)
        window.destroy()
        return done[0]

    # ----------------------------------------------------------------- login

    def start(self) -> None:
        Gtk = self.Gtk
        window = Gtk.Window(title="Hundesteuer – Anmeldung")
        window.connect("destroy", lambda *_: Gtk.main_quit() if self.main is None else None)
        grid = Gtk.Grid(row_spacing=8, column_spacing=12, margin=18)
        grid.attach(Gtk.Label(label="Hundesteuer – bitte anmelden", xalign=0), 0, 0, 2, 1)
        user, password = Gtk.Entry(activates_default=True), Gtk.Entry(activates_default=True)
        password.set_visibility(False)
        for row, (label, entry, ident) in enumerate(
            (("_Kennung", user, "hst-kennung"), ("K_ennwort", password, "hst-kennwort")), start=1
        ):
            caption = Gtk.Label.new_with_mnemonic(label)
            caption.set_mnemonic_widget(entry)
            caption.set_xalign(0)
            grid.attach(caption, 0, row, 1, 1)
            grid.attach(self.name(entry, label.replace("_", ""), ident), 1, row, 1, 1)
        error = Gtk.Label(label="", xalign=0)
        grid.attach(self.name(error, "Meldung", "hst-meldung"), 0, 3, 2, 1)
        button = Gtk.Button.new_with_mnemonic("_Anmelden")
        button.set_can_default(True)
        grid.attach(button, 1, 4, 1, 1)
        window.add(grid)

        def login(*_: Any) -> None:
            status, answer = self.api.call(
                "POST", "anmelden", {"kennung": user.get_text(), "kennwort": password.get_text()}
            )
            if status == 200:
                self.show_register()
                window.destroy()
                return
            password.set_text("")
            error.set_text(answer.get("error") or UNAVAILABLE.format(status=status or "keine"))

        button.connect("clicked", login)
        window.show_all()
        button.grab_default()
        user.grab_focus()

    # ----------------------------------------------------------------- the register

    def show_register(self) -> None:
        Gtk = self.Gtk
        window = self.main = Gtk.Window(title="Hundesteuer – Register")
        window.set_default_size(860, 460)
        window.connect("destroy", lambda *_: Gtk.main_quit())
        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=8, margin=12)
        bar = Gtk.Box(spacing=8)
        caption = Gtk.Label.new_with_mnemonic("Such_begriff")
        term = self.name(Gtk.Entry(activates_default=True), "Suchbegriff", "hst-suche")
        caption.set_mnemonic_widget(term)
        search = Gtk.Button.new_with_mnemonic("_Suchen")
        search.set_can_default(True)
        for widget in (caption, term, search):
            bar.add(widget)
        box.add(bar)
        store = Gtk.ListStore(*(str for _ in COLUMNS))
        table = self.name(Gtk.TreeView(model=store), "Treffer", "hst-treffer")
        for index, title in enumerate(COLUMNS):
            table.append_column(Gtk.TreeViewColumn(title, Gtk.CellRendererText(), text=index))
        scroll = Gtk.ScrolledWindow(vexpand=True)
        scroll.add(table)
        box.add(scroll)
        # Named by its text (no fixed name): a bot waits for "Suche „TERM“: …" after a search.
        status = Gtk.Label(label="Bereit.", xalign=0)
        status.get_accessible().set_accessible_id("hst-status")
        box.add(status)
        actions = Gtk.Box(spacing=8)
        new, leave = (Gtk.Button.new_with_mnemonic(t) for t in ("_Neuer Hund", "A_bmelden"))
        actions.add(new)
        actions.add(leave)
        box.add(actions)
        window.add(box)

        def find(text: str) -> None:
            code, answer = self.api.call("GET", "hunde?suche=" + urllib.parse.quote(text.strip()))
            store.clear()
            if code != 200:
                status.set_text(UNAVAILABLE.format(status=code or "keine"))
                return
            for hit in answer["treffer"]:
                store.append([hit["steuernummer"], hit["bezugszeichen"],
                              f"{hit['nachname']}, {hit['vorname']}", hit["hundename"],
                              hit["rasse"]])  # fmt: skip
            count, shown = len(answer["treffer"]), text.strip()
            status.set_text(f"Suche „{shown}“: {count or 'Keine'} Treffer")

        def logout(*_: Any) -> None:
            self.api.call("POST", "abmelden", {})
            window.destroy()

        search.connect("clicked", lambda *_: find(term.get_text()))
        new.connect("clicked", lambda *_: self.show_form(window, find))
        leave.connect("clicked", logout)
        window.show_all()
        search.grab_default()
        term.grab_focus()

    # ----------------------------------------------------------------- the entry form

    def show_form(self, parent: Any, find: Callable[[str], None]) -> None:
        Gtk = self.Gtk
        _, answer = self.api.call("GET", "rassen")
        dialog = Gtk.Dialog(title="Hund anmelden", transient_for=parent, modal=True)
        grid = Gtk.Grid(row_spacing=6, column_spacing=12, margin=12)
        fields: dict[str, Any] = {}
        for row, (key, label) in enumerate(FORM):
            if key == "rasse":
                combo = Gtk.ComboBoxText.new_with_entry()
                for breed in (answer or {}).get("rassen", []):
                    combo.append_text(breed)
                self.name(combo, "Rasse", "hst-rasse")
                entry = combo.get_child()
                widget = combo
            else:
                entry = widget = Gtk.Entry(activates_default=True, width_chars=32)
                if key in DATES:
                    entry.set_placeholder_text("TT.MM.JJJJ")
            text_id = f"hst-{key}-text" if key == "rasse" else f"hst-{key}"
            self.name(entry, label.replace("_", ""), text_id)
            caption = Gtk.Label.new_with_mnemonic(label)
            caption.set_mnemonic_widget(entry)
            caption.set_xalign(0)
            grid.attach(caption, 0, row, 1, 1)
            grid.attach(widget, 1, row, 1, 1)
            fields[key] = entry
        checks = {
            key: self.name(Gtk.CheckButton.new_with_mnemonic(label), label.replace("_", ""),
                           f"hst-{key}")
            for key, label in CHECKS
        }  # fmt: skip
        for offset, check in enumerate(checks.values()):
            grid.attach(check, 1, len(FORM) + offset, 1, 1)
        dialog.get_content_area().add(grid)
        dialog.add_button("Abb_rechen", Gtk.ResponseType.CANCEL)
        dialog.add_button("_Speichern", Gtk.ResponseType.OK)
        dialog.set_default_response(Gtk.ResponseType.OK)

        def respond(_: Any, response: int) -> None:
            if response != Gtk.ResponseType.OK:
                dialog.destroy()
                return
            values: dict[str, Any] = {key: entry.get_text() for key, entry in fields.items()}
            values |= {key: check.get_active() for key, check in checks.items()}
            if self.save(dialog, values):
                dialog.destroy()
                find(values["bezugszeichen"] or values["nachname"])

        dialog.connect("response", respond)
        dialog.show_all()
        fields["bezugszeichen"].grab_focus()

    def save(self, form: Any, values: dict[str, Any]) -> bool:
        """Ask, save with "Bitte warten", tell the outcome; whether the form may close."""
        bad = {key: _not_latin1(v) for key, v in values.items() if isinstance(v, str)}
        bad = {key: chars for key, chars in bad.items() if chars}
        if bad:
            shown = "; ".join(f"{dict(FORM)[k].replace('_', '')}: {c}" for k, c in bad.items())
            self.message(form, "Eingabe nicht möglich", f"Unzulässige Zeichen – {shown}")
            return False
        owner = f"{values['vorname']} {values['nachname']}"
        if not self.ask(form, "Bestätigung", f"Hund „{values['hundename']}“ für {owner} anlegen?"):
            return False
        status, answer = self.waiting(form, lambda: self.api.call("POST", "hunde", values))
        if status == 201:
            saved = f"Hund gespeichert. Steuernummer: {answer['steuernummer']}"
            self.message(form, "Gespeichert", saved, "INFO")
            return True
        if status == 409:
            self.message(form, "Bereits erfasst", answer.get("error", ""), "WARNING")
            return True
        if status == 422:
            problems = "\n".join(answer.get("felder", {}).values())
            self.message(form, "Eingaben prüfen", problems or answer.get("error", ""))
            return False
        self.message(form, "Fehler", UNAVAILABLE.format(status=status or "keine"))
        return False


if __name__ == "__main__":
    main()
