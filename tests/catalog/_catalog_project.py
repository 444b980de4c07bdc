"""A throw-away project for the catalog tests: copies of the example bots, a catalog that
publishes them with their real digests, the overlays it names."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from orchestrator.model.loader import bot_digest

ROOT = Path(__file__).resolve().parents[2]

CATALOG = """\
# The bots the cities share (a comment that promotion keeps).
catalog_version: 2
promotion:
  min_runs: 20
  min_cities: 2
  min_success_rate: 0.95
  days: 90
bots:
  gewerbe-uebertragung:
    path: bots/gewerbe-uebertragung
    effort_hours: 160  # hours to build
    requires:
      connectors: [civento, gewerberegister, queue]
      robot_labels: [browser]
    proven_against: {{civento: "3.4", gewerberegister: "2025.2"}}
    versions:
      - version: 1.2.0
        digest: {gewerbe}
        published: 2026-11-30
        maturity: pilot
    installations:
      giessen: {{version: 1.2.0, overlay: overlays/giessen/gewerbe-uebertragung.yaml}}
      marburg: {{version: 1.2.0, overlay: overlays/marburg/gewerbe-uebertragung.yaml}}
  posteingang-export:
    path: bots/posteingang-export
    effort_hours: 40
    versions:
      - version: 1.1.0
        digest: {posteingang}
        published: 2026-11-30
        maturity: experimental
"""

OVERLAY = """\
bot: gewerbe-uebertragung
version: 1.2.0
fachamt: Ordnungsamt
targets: {{civento: https://civento.{city}.example, gewerberegister: https://gewerbe.{city}.example}}
"""


@dataclass
class Project:
    """A project directory with bots, a catalog and overlays; ``catalog`` is its file."""

    root: Path

    @property
    def catalog(self) -> Path:
        return self.root / "bot_catalog.yaml"

    def bot_dir(self, bot_id: str) -> Path:
        return self.root / "bots" / bot_id

    def digest(self, bot_id: str) -> str:
        return bot_digest(self.bot_dir(bot_id))

    def write_catalog(self, text: str | None = None) -> Path:
        """The catalog: ``text``, or :data:`CATALOG` publishing the bots as they are now."""
        if text is None:
            digests = {
                "gewerbe": self.digest("gewerbe-uebertragung"),
                "posteingang": self.digest("posteingang-export"),
            }
            text = CATALOG.format(**digests)
        self.catalog.write_text(text, encoding="utf-8")
        return self.catalog


def make_project(root: Path) -> Project:
    """Copies of the example bots under ``root``, the overlays, the catalog publishing them."""
    shutil.copytree(
        ROOT / "bots", root / "bots", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    for city in ("giessen", "marburg"):
        overlay = root / "overlays" / city / "gewerbe-uebertragung.yaml"
        overlay.parent.mkdir(parents=True)
        overlay.write_text(OVERLAY.format(city=city), encoding="utf-8")
    made = Project(root)
    made.write_catalog()
    return made
