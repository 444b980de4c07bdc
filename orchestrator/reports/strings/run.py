"""The words of the run report, and of run, step and case statuses and settling actions."""

from __future__ import annotations

from orchestrator.reports.strings.common import Strings

RUN_REPORT: Strings = {
    "run.title": {"de": "Laufbericht: {bot}, Lauf {run}", "en": "Run report: {bot}, run {run}"},
    "run.summary": {"de": "Überblick", "en": "Summary"},
    "run.bot": {"de": "Bot", "en": "Bot"},
    "run.version": {"de": "Version", "en": "Version"},
    "run.digest": {"de": "Prüfsumme der Bot-Definition", "en": "Digest of the bot definition"},
    "run.tenant": {"de": "Mandant", "en": "Tenant"},
    "run.fachamt": {"de": "Fachamt", "en": "Fachamt (department)"},
    "run.trigger": {"de": "Auslöser", "en": "Trigger"},
    "run.trigger.schedule": {"de": "Zeitplan", "en": "Schedule"},
    "run.trigger.person": {"de": "gestartet von {actor}", "en": "started by {actor}"},
    "run.trigger.retry": {"de": "Wiederholung von Lauf {run}", "en": "Retry of run {run}"},
    "run.started": {"de": "Beginn", "en": "Start"},
    "run.ended": {"de": "Ende", "en": "End"},
    "run.duration": {"de": "Dauer", "en": "Duration"},
    "run.robot": {"de": "Roboter", "en": "Robot"},
    "run.attempt": {"de": "Versuch", "en": "Attempt"},
    "run.outcome": {"de": "Ergebnis", "en": "Outcome"},
    "run.error": {"de": "Fehler", "en": "Error"},
    "run.time_saved": {
        "de": "Geschätzte eingesparte Arbeitszeit",
        "en": "Estimated staff time saved",
    },
    "run.time_saved_value": {
        "de": "{minutes} Minuten ({cases} erledigte Vorgänge × {per_case} Minuten)",
        "en": "{minutes} minutes ({cases} cases done × {per_case} minutes)",
    },
    "run.outcome.for_a_person": {
        "de": "{n} Vorgänge brauchen eine Person",
        "en": "{n} cases need a person",
    },
    "run.bot.changed": {
        "de": "Die Bot-Definition wurde seit dem Lauf geändert oder ist nicht mehr vorhanden; "
        "Fachamt und Datenkategorien stammen aus der heutigen Fassung.",
        "en": "The bot definition changed since the run, or is gone; Fachamt and data "
        "categories are those of today's version.",
    },
    "run.attempt_of": {"de": "{attempt} von {attempts}", "en": "{attempt} of {attempts}"},
    "run.error_step": {"de": "bei Schritt {step}", "en": "at step {step}"},
    "run.needs_person.caption": {
        "de": "Vorgänge, bei denen eine Person handeln muss, mit Grund und nächstem Schritt",
        "en": "Cases on which a person must act, with the reason and the next step",
    },
    "run.case.screenshot": {"de": "Bildschirmfoto {n}", "en": "Screenshot {n}"},
    "run.screenshots": {"de": "Bildschirmfotos", "en": "Screenshots"},
    "run.screenshots.howto": {
        "de": "Ein Klick auf ein Vorschaubild (oder Tab und Eingabetaste) zeigt es in voller "
        "Größe.",
        "en": "Click a thumbnail (or Tab and Enter) to see it in full size.",
    },
    "run.screenshot.case": {"de": "Vorgang {reference}", "en": "case {reference}"},
    "run.screenshot.step": {"de": "Schritt", "en": "step"},
    "run.screenshots.left_out": {
        "de": "{n} weitere Bildschirmfotos liegen im Laufverzeichnis (bots show).",
        "en": "{n} more screenshots are in the run directory (bots show).",
    },
    "run.data.deletion": {"de": "Löschfristen", "en": "Deletion dates"},
    "run.counts": {"de": "Vorgänge in Zahlen", "en": "Cases in figures"},
    "run.counts.caption": {
        "de": "Anzahl der Vorgänge dieses Laufs nach Ergebnis",
        "en": "Number of this run's cases by result",
    },
    "run.counts.kind": {"de": "Art", "en": "Kind"},
    "run.counts.number": {"de": "Anzahl", "en": "Number"},
    "run.counts.received": {"de": "Eingegangen", "en": "Received"},
    "run.counts.done": {"de": "Erledigt", "en": "Done"},
    "run.counts.needs_human": {"de": "Braucht eine Person", "en": "Needs a person"},
    "run.counts.failed": {"de": "Fehlgeschlagen", "en": "Failed"},
    "run.counts.skipped": {
        "de": "Übersprungen oder wird wiederholt",
        "en": "Skipped or being retried",
    },
    "run.counts.awaiting_approval": {"de": "Wartet auf Freigabe", "en": "Awaiting approval"},
    "run.needs_person": {"de": "Was eine Person tun muss", "en": "What a person must do"},
    "run.needs_person.none": {
        "de": "Kein Vorgang dieses Laufs braucht eine Person.",
        "en": "No case of this run needs a person.",
    },
    "run.cases": {"de": "Vorgänge", "en": "Cases"},
    "run.cases.caption": {
        "de": "Alle Vorgänge, die dieser Lauf bearbeitet hat",
        "en": "All cases this run worked on",
    },
    "run.cases.none": {
        "de": "Dieser Lauf hat keine Vorgänge bearbeitet.",
        "en": "This run worked on no cases.",
    },
    "run.case.reference": {"de": "Vorgang (Referenz)", "en": "Case (reference)"},
    "run.case.queue": {"de": "Warteschlange", "en": "Queue"},
    "run.case.status": {"de": "Status", "en": "Status"},
    "run.case.target_reference": {
        "de": "Referenz im Zielsystem",
        "en": "Reference in the target system",
    },
    "run.case.reason": {"de": "Grund", "en": "Reason"},
    "run.case.action": {"de": "Was zu tun ist", "en": "Required action"},
    "run.approvals": {"de": "Offene Freigaben", "en": "Pending approvals"},
    "run.approvals.caption": {
        "de": "Vorgänge, die auf die Freigabe einer zweiten Person warten",
        "en": "Cases waiting for a second person's approval",
    },
    "run.approvals.none": {"de": "Keine Freigabe offen.", "en": "No approval pending."},
    "run.approvals.since": {"de": "Wartet seit", "en": "Waiting since"},
    "run.timeline": {"de": "Ablauf der Schritte", "en": "Step timeline"},
    "run.timeline.caption": {
        "de": "Schritte des Laufs in der Reihenfolge ihrer Ausführung",
        "en": "The run's steps in the order they ran",
    },
    "run.timeline.none": {"de": "Keine Schritte aufgezeichnet.", "en": "No steps recorded."},
    "run.timeline.more": {
        "de": "{n} weitere Schritte sind nicht aufgeführt.",
        "en": "{n} more steps are not listed.",
    },
    "run.step.number": {"de": "Nr.", "en": "No."},
    "run.step.name": {"de": "Schritt", "en": "Step"},
    "run.step.kind": {"de": "Art", "en": "Kind"},
    "run.step.status": {"de": "Status", "en": "Status"},
    "run.step.started": {"de": "Beginn", "en": "Start"},
    "run.step.duration": {"de": "Dauer", "en": "Duration"},
    "run.step.message": {"de": "Meldung", "en": "Message"},
    "run.evidence": {"de": "Belege zu Fehlern", "en": "Evidence of failures"},
    "run.evidence.none": {
        "de": "Keine Bildschirmfotos oder Traces aufgezeichnet.",
        "en": "No screenshots or traces recorded.",
    },
    "run.screenshot.alt": {
        "de": "Bildschirmfoto bei Schritt {step}: {name}",
        "en": "Screenshot at step {step}: {name}",
    },
    "run.screenshot.close": {"de": "Verkleinern", "en": "Make small again"},
    "run.screenshot.missing": {
        "de": "Bildschirmfoto {name} ist nicht mehr vorhanden (gelöscht oder verschoben).",
        "en": "Screenshot {name} is no longer there (deleted or moved).",
    },
    "run.traces": {"de": "Traces", "en": "Traces"},
    "run.trace.howto": {
        "de": "Eine Trace zeigt den Lauf Schritt für Schritt im Browser. Öffnen mit:",
        "en": "A trace replays the run step by step in the browser. Open it with:",
    },
    "run.trace.personal_data": {
        "de": "Traces und Bildschirmfotos enthalten personenbezogene Daten.",
        "en": "Traces and screenshots contain personal data.",
    },
    "run.data": {"de": "Daten und Löschung", "en": "Data and deletion"},
    "run.data.categories": {
        "de": "Verarbeitete Datenkategorien",
        "en": "Categories of data processed",
    },
    "run.data.categories.none": {
        "de": "Die Bot-Definition nennt keine Datenkategorien.",
        "en": "The bot definition names no data categories.",
    },
    "run.data.caption": {
        "de": "Wann welche Daten gelöscht werden",
        "en": "When which data is deleted",
    },
    "run.data.kind": {"de": "Daten", "en": "Data"},
    "run.data.deleted_on": {"de": "Gelöscht am", "en": "Deleted on"},
    "run.data.evidence": {
        "de": "Bildschirmfotos, Traces und Seitenabzüge dieses Laufs",
        "en": "Screenshots, traces and page captures of this run",
    },
    "run.data.payloads": {
        "de": "Falldaten der Warteschlange „{queue}“",
        "en": "Case data of queue “{queue}”",
    },
    "run.data.payloads_days": {
        "de": "{days} Tage nach Abschluss des Vorgangs",
        "en": "{days} days after the case is finished",
    },
    "run.data.report": {"de": "Dieser Bericht", "en": "This report"},
    "run.data.not_ended": {
        "de": "offen (der Lauf ist nicht beendet)",
        "en": "open (the run has not ended)",
    },
}

STATUS: Strings = {
    # runs
    "status.queued": {"de": "wartet", "en": "queued"},
    "status.claimed": {"de": "übernommen", "en": "claimed"},
    "status.running": {"de": "läuft", "en": "running"},
    "status.succeeded": {"de": "erfolgreich", "en": "succeeded"},
    "status.failed": {"de": "fehlgeschlagen", "en": "failed"},
    "status.timed_out": {"de": "Zeit überschritten", "en": "timed out"},
    "status.cancelled": {"de": "abgebrochen", "en": "cancelled"},
    "status.lost": {"de": "Roboter verloren", "en": "robot lost"},
    # steps
    "status.ok": {"de": "ok", "en": "ok"},
    "status.skipped": {"de": "übersprungen", "en": "skipped"},
    "status.recovered": {"de": "abgefangen", "en": "handled"},
    # work items (cases)
    "status.new": {"de": "neu", "en": "new"},
    "status.in_progress": {"de": "in Arbeit", "en": "in progress"},
    "status.done": {"de": "erledigt", "en": "done"},
    "status.needs_human": {"de": "braucht eine Person", "en": "needs a person"},
    "status.abandoned": {"de": "aufgegeben", "en": "abandoned"},
    "status.retrying": {"de": "wird wiederholt", "en": "being retried"},
    "status.awaiting_approval": {"de": "wartet auf Freigabe", "en": "awaiting approval"},
}

ACTIONS: Strings = {
    # What a person does about a case; the template adds the command (see run_report).
    "action.needs_human": {
        "de": "Vorgang prüfen und von Hand bearbeiten, danach als erledigt melden (oder mit "
        "--retry den Robotern zurückgeben):",
        "en": "Check the case and deal with it by hand, then mark it done (or hand it back to "
        "the robots with --retry):",
    },
    "action.failed": {
        "de": "Technischer Fehler nach allen Versuchen: die Betreuung des Bots informieren. "
        "Erneut versuchen:",
        "en": "Technical error after every attempt: tell the bot's maintainers. Try again:",
    },
    "action.awaiting_approval": {
        "de": "Eine zweite Person prüft und gibt frei:",
        "en": "A second person checks and approves:",
    },
    "action.retrying": {
        "de": "Nichts zu tun: wird automatisch erneut versucht.",
        "en": "Nothing to do: it is tried again automatically.",
    },
}
