"""The words of the period report."""

from __future__ import annotations

from orchestrator.reports.strings.common import Strings

PERIOD_REPORT: Strings = {
    "period.title": {
        "de": "Zeitraumbericht {tenant}: {first} bis {last}",
        "en": "Period report {tenant}: {first} to {last}",
    },
    "period.scope.fachamt": {"de": "Fachamt", "en": "Fachamt (department)"},
    "period.scope.all_fachaemter": {"de": "alle Fachämter", "en": "all departments"},
    "period.scope.bot": {"de": "Bot", "en": "Bot"},
    "period.as_of": {"de": "Stand {at}", "en": "as of {at}"},
    "period.overview": {"de": "Überblick", "en": "Summary"},
    "period.tenant": {"de": "Mandant", "en": "Tenant"},
    "period.period": {"de": "Zeitraum", "en": "Period"},
    "period.period_value": {"de": "{first} bis {last}", "en": "{first} to {last}"},
    "period.bots": {"de": "Bots", "en": "Bots"},
    "period.runs": {"de": "Läufe", "en": "Runs"},
    "period.success_rate": {"de": "Erfolgsquote", "en": "Success rate"},
    "period.cases": {"de": "Vorgänge", "en": "Cases"},
    "period.cases_value": {
        "de": "{worked} bearbeitet, davon {done} erledigt",
        "en": "{worked} worked on, {done} of them done",
    },
    "period.waiting": {"de": "Warten auf eine Person", "en": "Waiting for a person"},
    "period.oldest_waiting": {
        "de": "der älteste seit {days} Tagen, seit {since}",
        "en": "the oldest for {days} days, since {since}",
    },
    "period.sla": {"de": "Fristen überschritten", "en": "Deadlines missed"},
    "period.sla_value": {
        "de": "{late} nach Fristablauf erledigt, {open} offen über die Frist",
        "en": "{late} done after the deadline, {open} open past it",
    },
    "period.saved": {
        "de": "Geschätzte eingesparte Arbeitszeit",
        "en": "Estimated staff time saved",
    },
    "period.hours_value": {"de": "{hours} Stunden", "en": "{hours} hours"},
    "period.hours": {"de": "Stunden", "en": "hours"},
    "period.days_value": {"de": "{days} Tage", "en": "{days} days"},
    "period.overview.note": {
        "de": "Gezählt werden die Läufe, die im Zeitraum begonnen haben, und die Vorgänge, "
        "die diese Läufe bearbeitet haben. Erfolgsquote: erfolgreiche Läufe unter allen "
        "Läufen, die von selbst geendet haben (abgebrochene zählen nicht). Eingesparte "
        "Arbeitszeit: erledigte Vorgänge × Minuten, die ein Vorgang von Hand dauert (laut "
        "Bot-Definition). Wartende Vorgänge: Stand bei Erstellung des Berichts.",
        "en": "Counted are the runs that started in the period and the cases those runs "
        "worked on. Success rate: succeeded runs among all runs that ended on their own "
        "(cancelled ones do not count). Staff time saved: cases done × the minutes one case "
        "takes by hand (from the bot definition). Waiting cases: as when the report was made.",
    },
    "period.runs.heading": {"de": "Läufe je Tag", "en": "Runs per day"},
    "period.runs.succeeded": {"de": "erfolgreich", "en": "succeeded"},
    "period.runs.failed": {"de": "fehlgeschlagen", "en": "failed"},
    "period.runs.cancelled": {"de": "abgebrochen", "en": "cancelled"},
    "period.runs.running": {"de": "noch nicht beendet", "en": "not ended yet"},
    "period.runs.chart_caption": {
        "de": "Läufe je Tag nach Ergebnis (fehlgeschlagen: auch Zeit überschritten und "
        "Roboter verloren).",
        "en": "Runs per day by outcome (failed: also timed out and robot lost).",
    },
    "period.runs.by_month": {
        "de": "Läufe je Monat nach Ergebnis",
        "en": "Runs per month by outcome",
    },
    "period.runs.by_day": {"de": "Läufe je Tag nach Ergebnis", "en": "Runs per day by outcome"},
    "period.cases.heading": {"de": "Vorgänge je Tag", "en": "Cases per day"},
    "period.cases.note": {
        "de": "Ein Vorgang zählt an jedem Tag, an dem ein Lauf ihn bearbeitet hat, mit dem "
        "Ergebnis dieses Laufs: ein wiederholter Vorgang erscheint also erst als „wird "
        "wiederholt“ und später als erledigt.",
        "en": "A case counts on every day a run worked on it, with that run's result: a "
        "retried case shows first as “being retried”, later as done.",
    },
    "period.cases.done": {"de": "erledigt", "en": "done"},
    "period.cases.needs_human": {"de": "an eine Person", "en": "to a person"},
    "period.cases.failed": {"de": "fehlgeschlagen", "en": "failed"},
    "period.cases.retrying": {"de": "wird wiederholt", "en": "being retried"},
    "period.cases.other": {"de": "noch offen", "en": "still open"},
    "period.cases.chart_caption": {
        "de": "Bearbeitete Vorgänge je Tag nach Ergebnis.",
        "en": "Cases worked on per day by result.",
    },
    "period.cases.by_month": {
        "de": "Bearbeitete Vorgänge je Monat nach Ergebnis",
        "en": "Cases worked on per month by result",
    },
    "period.cases.by_day": {
        "de": "Bearbeitete Vorgänge je Tag nach Ergebnis",
        "en": "Cases worked on per day by result",
    },
    "period.sum": {"de": "Summe", "en": "Total"},
    "period.month": {"de": "Monat", "en": "Month"},
    "period.day": {"de": "Tag", "en": "Day"},
    "period.months": {
        "de": "Jan Feb Mär Apr Mai Jun Jul Aug Sep Okt Nov Dez",
        "en": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
    },
    "period.month_label": {"de": "{month} {year}", "en": "{month} {year}"},
    "period.all_days": {"de": "Alle Tage einzeln", "en": "Every day"},
    "period.chart.table_below": {
        "de": "Die Zahlen stehen in der Tabelle darunter.",
        "en": "The numbers are in the table below.",
    },
    "period.chart.runs_axis": {"de": "Läufe", "en": "Runs"},
    "period.chart.cases_axis": {"de": "Vorgänge", "en": "Cases"},
    "period.chart.runs_alt": {
        "de": "Gestapeltes Säulendiagramm der Läufe je Tag vom {first} bis {last}: {total} "
        "Läufe, davon {parts}. Die meisten an einem Tag: {peak} am {peak_day}.",
        "en": "Stacked bar chart of runs per day from {first} to {last}: {total} runs, of "
        "them {parts}. Most on one day: {peak} on {peak_day}.",
    },
    "period.chart.cases_alt": {
        "de": "Gestapeltes Säulendiagramm der bearbeiteten Vorgänge je Tag vom {first} bis "
        "{last}: {total} Bearbeitungen, davon {parts}. Die meisten an einem Tag: {peak} am "
        "{peak_day}.",
        "en": "Stacked bar chart of cases worked on per day from {first} to {last}: {total} "
        "in all, of them {parts}. Most on one day: {peak} on {peak_day}.",
    },
    "period.chart.robots_axis": {"de": "Auslastung in %", "en": "Utilisation in %"},
    "period.chart.robots_alt": {
        "de": "Balkendiagramm der Auslastung je Roboter: {robots}.",
        "en": "Bar chart of the utilisation of each robot: {robots}.",
    },
    "period.chart.saved_axis": {
        "de": "Eingesparte Arbeitszeit in Stunden",
        "en": "Staff time saved in hours",
    },
    "period.chart.saved_alt": {
        "de": "Balkendiagramm der geschätzten eingesparten Arbeitszeit je Bot, zusammen "
        "{total} Stunden: {bots}.",
        "en": "Bar chart of the estimated staff time saved per bot, {total} hours in all: {bots}.",
    },
    "period.people.heading": {"de": "Was Menschen tun müssen", "en": "What people must do"},
    "period.people.caption": {
        "de": "Vorgänge, die eine Person brauchen, und überschrittene Fristen",
        "en": "Cases that need a person, and missed deadlines",
    },
    "period.people.what": {"de": "Was", "en": "What"},
    "period.people.number": {"de": "Anzahl", "en": "Number"},
    "period.people.waiting": {
        "de": "Vorgänge, die jetzt auf eine Person warten",
        "en": "Cases waiting for a person now",
    },
    "period.people.oldest": {
        "de": "So lange wartet der älteste schon",
        "en": "How long the oldest has been waiting",
    },
    "period.people.done_late": {
        "de": "Frist im Zeitraum, nach Fristablauf erledigt",
        "en": "Deadline in the period, done after it",
    },
    "period.people.open_overdue": {
        "de": "Frist im Zeitraum, jetzt noch offen",
        "en": "Deadline in the period, still open now",
    },
    "period.people.note": {
        "de": "Die Frist eines Vorgangs ergibt sich aus der Bearbeitungsfrist (SLA) seiner "
        "Warteschlange. Welche Vorgänge es sind, zeigt bots queue items.",
        "en": "A case's deadline comes from its queue's service level (SLA). Which cases "
        "they are, bots queue items shows.",
    },
    "period.reasons.heading": {"de": "Häufigste Fehlergründe", "en": "Top failure reasons"},
    "period.reasons.caption": {
        "de": "Die {n} häufigsten Gründe für fehlgeschlagene Läufe und Vorgänge",
        "en": "The {n} most frequent reasons for failed runs and cases",
    },
    "period.reasons.reason": {"de": "Grund", "en": "Reason"},
    "period.reasons.source": {"de": "Betrifft", "en": "Concerns"},
    "period.reasons.count": {"de": "Anzahl", "en": "Number"},
    "period.reasons.run": {"de": "Lauf fehlgeschlagen", "en": "run failed"},
    "period.reasons.needs_human": {"de": "Vorgang an eine Person", "en": "case to a person"},
    "period.reasons.failed": {"de": "Vorgang fehlgeschlagen", "en": "case failed"},
    "period.reasons.none": {
        "de": "Im Zeitraum ist kein Lauf und kein Vorgang fehlgeschlagen.",
        "en": "No run and no case failed in the period.",
    },
    "period.bots.heading": {
        "de": "Eingesparte Arbeitszeit und Amortisation je Bot",
        "en": "Staff time saved and payback per bot",
    },
    "period.saved.chart_caption": {
        "de": "Geschätzte eingesparte Arbeitszeit je Bot im Zeitraum.",
        "en": "Estimated staff time saved per bot in the period.",
    },
    "period.bots.caption": {"de": "Kennzahlen je Bot", "en": "Key figures per bot"},
    "period.bots.payback_caption": {
        "de": "Zeitersparnis und Amortisation je Bot",
        "en": "Time saved and payback per bot",
    },
    "period.bots.bot": {"de": "Bot", "en": "Bot"},
    "period.bots.fachamt": {"de": "Fachamt", "en": "Department"},
    "period.bots.minutes": {"de": "Minuten je Vorgang von Hand", "en": "Minutes per case by hand"},
    "period.bots.hours_saved": {"de": "Eingesparte Stunden", "en": "Hours saved"},
    "period.bots.effort": {
        "de": "Entwicklungsaufwand in Stunden",
        "en": "Effort to build in hours",
    },
    "period.bots.per_year": {
        "de": "Eingesparte Stunden hochgerechnet auf ein Jahr",
        "en": "Hours saved extrapolated to a year",
    },
    "period.bots.payback": {"de": "Amortisiert nach Monaten", "en": "Pays back after months"},
    "period.bots.note": {
        "de": "Amortisation: Entwicklungsaufwand geteilt durch die eingesparten Stunden je "
        "Monat, hochgerechnet aus diesem Zeitraum (wie der KGSt-Vergleichsring: gewonnene "
        "Stunden gegen Entwicklungsaufwand). Den Aufwand nennt der Bot-Katalog "
        "(effort_hours).",
        "en": "Payback: the effort to build divided by the hours saved per month, "
        "extrapolated from this period (as the KGSt comparison circle does: hours gained "
        "against development effort). The effort comes from the bot catalog (effort_hours).",
    },
    "period.bots.without_minutes": {
        "de": "Ohne Angabe der Minuten je Vorgang (manual_minutes_per_case), daher ohne "
        "eingesparte Zeit: {bots}.",
        "en": "Without minutes per case (manual_minutes_per_case), hence no time saved: {bots}.",
    },
    "period.bots.none": {
        "de": "Im Zeitraum hat kein Bot gearbeitet.",
        "en": "No bot worked in the period.",
    },
    "period.robots.heading": {"de": "Auslastung der Roboter", "en": "Robot utilisation"},
    "period.robots.chart_caption": {
        "de": "Anteil der Zeit, in der die Roboter mit Läufen dieses Berichts belegt waren.",
        "en": "Share of the time the robots were busy with this report's runs.",
    },
    "period.robots.caption": {"de": "Belegung je Roboter", "en": "Busy time per robot"},
    "period.robots.robot": {"de": "Roboter", "en": "Robot"},
    "period.robots.busy": {"de": "Belegt in Stunden", "en": "Busy in hours"},
    "period.robots.utilisation": {"de": "Auslastung", "en": "Utilisation"},
    "period.robots.note": {
        "de": "Auslastung: Dauer der Läufe geteilt durch die Zeit des Zeitraums (bis jetzt) "
        "mal die Zahl der Läufe, die der Roboter gleichzeitig ausführen kann. Läufe anderer "
        "Mandanten und Fachämter auf demselben Roboter zählen hier nicht.",
        "en": "Utilisation: the duration of the runs divided by the period's time (up to "
        "now) times the runs the robot can execute at once. Runs of other tenants and "
        "departments on the same robot do not count here.",
    },
    "period.robots.none": {
        "de": "Im Zeitraum hat kein Roboter gearbeitet.",
        "en": "No robot worked in the period.",
    },
    "period.robot.command_line": {
        "de": "Von der Kommandozeile gestartet",
        "en": "Started from the command line",
    },
    "period.about.heading": {"de": "Über diesen Bericht", "en": "About this report"},
    "period.about.people": {
        "de": "Der Bericht zählt, was Bots getan haben. Er nennt keine Beschäftigten und "
        "keine Zahlen je Person, auch nicht, wer einen Vorgang von Hand erledigt hat; Läufe, "
        "die jemand von der Kommandozeile gestartet hat, stehen ohne Rechnernamen zusammen.",
        "en": "The report counts what bots did. It names no employee and gives no figure "
        "per person, not even who finished a case by hand; runs someone started from the "
        "command line are counted together without a machine name.",
    },
    "period.about.days": {
        "de": "Tage und Uhrzeiten in der Zeitzone {zone}.",
        "en": "Days and times in the time zone {zone}.",
    },
}
