"""Secret providers and the redactor."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import quote, quote_plus

import pytest

from orchestrator.engine.artifacts import scrub_bytes
from orchestrator.engine.secrets import EnvSecretProvider, MappingSecretProvider, Redactor
from orchestrator.errors import SecretMissing

SECRET = 'Pä$$ w0rd&x=1/"<>'


def test_env_provider_reads_bots_secret_variables() -> None:
    provider = EnvSecretProvider({"BOTS_SECRET_CIVENTO_PASSWORD": "abc"})
    assert provider.get("civento-password") == "abc"
    assert provider.get("civento_password") == "abc"
    with pytest.raises(SecretMissing, match="BOTS_SECRET_OTHER"):
        provider.get("other")
    with pytest.raises(SecretMissing, match="'x'"):
        MappingSecretProvider({}).get("x")


@pytest.mark.parametrize(
    "form",
    [
        SECRET,
        quote(SECRET),
        quote(SECRET, safe=""),
        quote_plus(SECRET),
        quote_plus(SECRET.encode("latin-1")),
        re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(SECRET)),
        json.dumps(SECRET)[1:-1],
        json.dumps(SECRET, ensure_ascii=False)[1:-1],
        html.escape(SECRET),
        json.dumps(html.escape(SECRET))[1:-1],
    ],
)
def test_every_encoded_form_is_redacted(form: str) -> None:
    redactor = Redactor([SECRET])
    text = f"before {form} after"
    assert redactor.redact(text) == "before *** after"
    assert redactor.redact_bytes(text.encode()) == b"before *** after"


def test_longer_secrets_win_and_other_text_stays() -> None:
    redactor = Redactor(["geheim", "geheim-lang", ""])
    assert redactor.redact("a geheim-lang b geheim c") == "a *** b *** c"
    assert redactor.redact("nichts Geheimes") == "nichts Geheimes"
    assert redactor.redact_data({"k": ["geheim", 1, ("x geheim",)]}) == {"k": ["***", 1, ["x ***"]]}
    assert not Redactor([])


def test_zip_members_are_scrubbed_recursively() -> None:
    import io
    import zipfile

    def make_zip(members: dict[str, bytes]) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for name, data in members.items():
                archive.writestr(name, data)
        return out.getvalue()

    inner = make_zip({"body.dat": quote_plus(SECRET).encode()})
    outer = make_zip({"trace.trace": json.dumps({"value": SECRET}).encode(), "inner.zip": inner})
    clean = scrub_bytes(outer, Redactor([SECRET]))
    with zipfile.ZipFile(io.BytesIO(clean)) as archive:
        assert json.loads(archive.read("trace.trace")) == {"value": "***"}
        with zipfile.ZipFile(io.BytesIO(archive.read("inner.zip"))) as nested:
            assert nested.read("body.dat") == b"***"


def test_a_tenants_own_secret_comes_before_the_shared_one() -> None:
    environ = {
        "BOTS_SECRET_GIESSEN__CIVENTO_PASSWORD": "giessen-only",
        "BOTS_SECRET_CIVENTO_PASSWORD": "shared",
    }
    assert EnvSecretProvider(environ, tenant="giessen").get("civento-password") == "giessen-only"
    assert EnvSecretProvider(environ, tenant="marburg").get("civento-password") == "shared"
    with pytest.raises(SecretMissing) as missing:
        EnvSecretProvider({}, tenant="marburg").get("civento_password")
    assert "BOTS_SECRET_MARBURG__CIVENTO_PASSWORD" in str(missing.value)
