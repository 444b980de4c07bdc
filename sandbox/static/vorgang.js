/* The Vorgang page as a GWT client builds it: data comes by fetch after the page has loaded,
   the form is built with fresh generated ids each time, "Bitte warten" covers the page meanwhile.
   The script finds its elements by class, role and URL, never by data-* attribute: served with
   the setting data_attributes: false the page has none, and then the script adds none either. */
(function () {
  "use strict";
  var withDataAttributes = document.querySelector("[data-testid]") !== null;
  var root = document.querySelector("section.vorgang");
  var nummer = decodeURIComponent(window.location.pathname.split("/").pop());
  var api = "/civento/api/vorgang/" + encodeURIComponent(nummer);
  var overlay = document.querySelector(".overlay[role=progressbar]");
  var alertBox = root.querySelector("p.fehler[role=alert]");
  var message = root.querySelector("p.erfolg[role=status]");
  var editor = root.querySelector("section.bearbeitung");
  var fieldErrors = {};
  var lateTimer = null;

  function uid() { return "gwt-uid-" + Math.floor(100000 + Math.random() * 900000); }
  function busy(on) { overlay.hidden = !on; overlay.setAttribute("aria-busy", String(on)); }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (withDataAttributes || k.indexOf("data-") !== 0) node.setAttribute(k, attrs[k]);
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function showError(text) { alertBox.textContent = text; alertBox.hidden = !text; }
  function expired(response) {
    return response.json().then(function (body) {
      window.location.href = body.login || "/civento/login?grund=abgelaufen";
    });
  }

  document.querySelectorAll("[role=tab]").forEach(function (tab) {
    tab.addEventListener("click", function () {
      document.querySelectorAll("[role=tab]").forEach(function (t) {
        t.setAttribute("aria-selected", String(t === tab));
      });
      document.querySelectorAll("[role=tabpanel]").forEach(function (p) {
        p.hidden = p.getAttribute("aria-labelledby") !== tab.id;
      });
    });
  });

  function readonlyField(parent, label, value) {
    var id = uid();
    var wrap = el("div", { "class": "feld" });
    wrap.appendChild(el("label", { "for": id }, label));
    var input = el("input", { id: id, readonly: "", "class": "nurlesen" });
    input.value = value || "";
    wrap.appendChild(input);
    parent.appendChild(wrap);
  }

  function renderData(d) {
    var panels = root.querySelectorAll("[role=tabpanel]");
    var p1 = panels[0];
    var p2 = panels[1];
    p1.replaceChildren(el("h2", {}, "Antragsteller"));
    p2.replaceChildren(el("h2", {}, d.betrieb ? "Gewerbedaten" : "Angaben"));
    readonlyField(p1, "Anrede", d.anrede);
    readonlyField(p1, "Vorname", d.vorname);
    readonlyField(p1, "Nachname", d.nachname);
    readonlyField(p1, "Geburtsdatum", d.geburtsdatum);
    readonlyField(p1, "E-Mail", d.email);
    readonlyField(p1, "Telefon", d.telefon);
    if (d.betrieb) {
      readonlyField(p2, "Name des Betriebs", d.betrieb);
      readonlyField(p2, "Rechtsform", d.rechtsform);
      readonlyField(p2, "Straße und Hausnummer", d.strasse);
      readonlyField(p2, "Postleitzahl", d.plz);
      readonlyField(p2, "Ort", d.ort);
      readonlyField(p2, "Angemeldete Tätigkeit", d.taetigkeit);
      readonlyField(p2, "Beginn der Tätigkeit", d.beginn);
    } else {
      readonlyField(p2, "Straße und Hausnummer", d.strasse);
      readonlyField(p2, "Postleitzahl", d.plz);
      readonlyField(p2, "Ort", d.ort);
      if (d.angaben && d.angaben.length) {
        d.angaben.forEach(function (a) { readonlyField(p2, a.feld, a.wert); });
      } else {
        readonlyField(p2, "Angaben", d.taetigkeit);
      }
    }
    root.querySelector(".unterzeile .status").textContent = d.status;
    var log = root.querySelector("section.verlauf ol");
    log.replaceChildren();
    d.verlauf.forEach(function (v) { log.appendChild(el("li", {}, v.zeit + " " + v.benutzer + ": " + v.eintrag)); });
    renderEditor(d);
  }

  function editableField(parent, label, name, value, multiline) {
    var id = uid();
    var errId = uid();
    var wrap = el("div", { "class": "feld" });
    wrap.appendChild(el("label", { "for": id }, label));
    var input = el(multiline ? "textarea" : "input", { id: id, name: name, "aria-describedby": errId });
    input.value = value || "";
    wrap.appendChild(input);
    fieldErrors[name] = el("span", { id: errId, "class": "feld-fehler", "data-fehler-fuer": name });
    wrap.appendChild(fieldErrors[name]);
    parent.appendChild(wrap);
    return input;
  }

  function renderEditor(d) {
    if (lateTimer) clearTimeout(lateTimer);
    editor.replaceChildren(el("h2", {}, "Bearbeitung"));
    var az = editableField(editor, "Aktenzeichen Fachverfahren", "aktenzeichen", d.aktenzeichen_fv);
    var note = editableField(editor, "Bemerkung", "bemerkung", d.bemerkung, true);
    var labelId = uid();
    var wrap = el("div", { "class": "feld" });
    wrap.appendChild(el("label", { id: labelId }, "Neuer Status"));
    var select = el("select", { name: "status" });
    select.appendChild(el("option", { value: "" }, ""));
    d.statuswerte.forEach(function (s) {
      if (s !== d.status) select.appendChild(el("option", { value: s }, s));
    });
    wrap.appendChild(select);
    fieldErrors.status = el("span", { "class": "feld-fehler", "data-fehler-fuer": "status" });
    wrap.appendChild(fieldErrors.status);
    editor.appendChild(wrap);
    window.Select2Lite.attach(
      select, labelId, withDataAttributes ? "status-auswahl" : null, "– Status wählen –");
    var actions = el("div", { "class": "aktionen" });
    editor.appendChild(actions);
    // Late element: the save button arrives after late_elements_ms (as with lazy GWT widgets).
    function addSave() {
      var save = el("button", { type: "button", "class": "primaer", "data-testid": "speichern" }, "Speichern");
      save.addEventListener("click", function () { submit(az.value, note.value, select.value); });
      actions.appendChild(save);
    }
    // (Timers of pages in background tabs are throttled: no timer when there is no delay.)
    if (d.late_elements_ms > 0) lateTimer = setTimeout(addSave, d.late_elements_ms);
    else addSave();
  }

  function showFieldErrors(errors) {
    var texts = [];
    Object.keys(errors).forEach(function (field) {
      var span = fieldErrors[field];
      if (span) span.textContent = errors[field];
      var input = editor.querySelector("[name=" + field + "]");
      if (input && field !== "status") input.setAttribute("aria-invalid", "true");
      texts.push(errors[field]);
    });
    showError("Nicht gespeichert: " + texts.join(" "));
  }

  // The session's CSRF token, as the server put it into the page.
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function submit(aktenzeichen, bemerkung, status) {
    message.textContent = "";
    showError("");
    busy(true);
    fetch(api, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify({ aktenzeichen: aktenzeichen, bemerkung: bemerkung, status: status }),
    }).then(function (r) {
      if (r.status === 401) return expired(r);
      if (r.status === 403) return r.json().then(function (b) { busy(false); showError(b.error); });
      if (r.status === 422) return r.json().then(function (b) { busy(false); showFieldErrors(b.fehler); });
      if (!r.ok) { busy(false); showError("Speichern fehlgeschlagen (HTTP " + r.status + "). Bitte erneut versuchen."); return; }
      return r.json().then(function (b) {
        return load().then(function () { message.textContent = "Gespeichert. Status: " + b.status; });
      });
    }).catch(function () { busy(false); showError("Keine Verbindung zum Server. Bitte erneut versuchen."); });
  }

  function load() {
    busy(true);
    return fetch(api, { headers: { Accept: "application/json" } }).then(function (r) {
      if (r.status === 401) return expired(r);
      if (!r.ok) {
        showError("Der Vorgang konnte nicht geladen werden (HTTP " + r.status + "). Bitte laden Sie die Seite neu.");
        busy(false);
        return;
      }
      return r.json().then(function (d) { renderData(d); busy(false); });
    }).catch(function () {
      showError("Keine Verbindung zum Server. Bitte laden Sie die Seite neu.");
      busy(false);
    });
  }

  load();
})();
