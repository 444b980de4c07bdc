"""The Gewerberegister's entry form, as the real register has it: its labels and legal forms.

The one source of them: the connector fills the form by these labels, the sandbox's stand-in
serves the same form, and the hand-written benchmark maps Civento's wording of a legal form to
the register's with :data:`RECHTSFORMEN`. Pure data, no imports, so that each may use it.
(The published bot ``gewerbe-uebertragung`` 1.2.0 keeps its own table in its hook: a
published version's files never change; its next version takes this one.)

Example::

    FIELDS["taetigkeit"]                                    # "Gegenstand des Gewerbes"
    RECHTSFORMEN["Gesellschaft mit beschränkter Haftung (GmbH)"]   # "GmbH"
"""

from __future__ import annotations

#: The entry form's fields, in the order of the form: key in ``eintrag`` -> the field's label.
FIELDS = {
    "bezugszeichen": "Bezugszeichen",
    "betrieb": "Betriebsbezeichnung",
    "rechtsform": "Rechtsform",
    "inhaber_nachname": "Inhaber Nachname",
    "inhaber_vorname": "Inhaber Vorname",
    "strasse": "Straße",
    "hausnummer": "Hausnummer",
    "plz": "PLZ",
    "ort": "Ort",
    "taetigkeit": "Gegenstand des Gewerbes",
    "beginn": "Beginn (TT.MM.JJJJ)",
}

#: Civento's wording of a legal form -> the register's option label.
RECHTSFORMEN = {
    "Gesellschaft mit beschränkter Haftung (GmbH)": "GmbH",
    "Eingetragener Kaufmann / Eingetragene Kauffrau (e.K.)": "e.K.",
    "Gesellschaft bürgerlichen Rechts (GbR)": "GbR",
    "Einzelunternehmen (nicht im Handelsregister eingetragen)": "Einzelunternehmen",
    "Unternehmergesellschaft (haftungsbeschränkt)": "UG (haftungsbeschränkt)",
    "Aktiengesellschaft (AG)": "AG",
    "Offene Handelsgesellschaft (OHG)": "OHG",
    "Kommanditgesellschaft (KG)": "KG",
}
