"""Which names a template or condition uses, found by parsing it (never by rendering it).

Strings in steps are Jinja templates (``"{{ targets.civento }}/login"``); conditions (``if``,
``when``, ``assert``) are bare expressions (``vorgaenge | length > 0``) or ``{{ ... }}``::

    refs = template_references("{{ params.max_cases + offset }}")
    refs.names        # {'params', 'offset'}
    refs.attributes   # [('params', 'max_cases')]

Parsing only (no compiling) means filters and tests the engine adds are not needed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jinja2 import meta, nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.parser import Parser
from jinja2.sandbox import SandboxedEnvironment

#: Names whose attributes are checked against the bot's declarations.
NAMESPACES = ("params", "secrets", "targets", "run")


def _anything(*args: Any, **kwargs: Any) -> Any:
    return None


class _AnyName(dict[str, Any]):
    """Filters or tests that accept every name: the engine may register its own."""

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key, _anything)

    def __contains__(self, key: object) -> bool:
        return True


_env = SandboxedEnvironment()
# Finding names goes through Jinja's code generator, which rejects unknown filter names.
_env.filters = _AnyName(_env.filters)
_env.tests = _AnyName(_env.tests)

#: Names Jinja itself provides (``range``, ``dict``, ``namespace``, ...).
JINJA_GLOBALS = frozenset(_env.globals)


@dataclass(frozen=True)
class TemplateReferences:
    """The free names of a template and the namespace attributes it reads.

    Attributes:
        names: Names used but not defined inside the template itself.
        attributes: ``(namespace, attribute)`` for ``params.x``, ``secrets['y']``, ...; the
            attribute is None when it is computed (``secrets[name]``) or absent (``params``).
    """

    names: frozenset[str] = frozenset()
    attributes: tuple[tuple[str, str | None], ...] = field(default=())


def is_template(text: str) -> bool:
    """True when the string contains Jinja markup at all."""
    return "{{" in text or "{%" in text or "{#" in text


def template_references(source: str) -> TemplateReferences:
    """Names used by a template string such as ``"Fall {{ vorgang.Nummer }}"``.

    Raises:
        TemplateSyntaxError: The template is not valid Jinja.
    """
    if not is_template(source):
        return TemplateReferences()
    return _references(_env.parse(source))


def expression_references(source: str) -> TemplateReferences:
    """Names used by a condition: a bare expression, or a ``{{ ... }}`` template.

    Raises:
        TemplateSyntaxError: The expression is not valid Jinja.
    """
    if is_template(source):
        return template_references(source)
    parser = Parser(_env, source, state="variable")
    expression = parser.parse_expression()
    if not parser.stream.eos:
        token = parser.stream.current
        raise TemplateSyntaxError(f"unexpected {token.value!r} after the expression", token.lineno)
    tree = nodes.Template([nodes.Output([expression])], lineno=1)
    tree.set_environment(_env)
    return _references(tree)


def _references(tree: nodes.Template) -> TemplateReferences:
    free = meta.find_undeclared_variables(tree)
    attributes: list[tuple[str, str | None]] = []
    accessed: dict[str, int] = {}
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        assert isinstance(node, nodes.Getattr | nodes.Getitem)
        target = node.node
        if not (isinstance(target, nodes.Name) and target.name in free):
            continue
        if target.name not in NAMESPACES:
            continue
        attribute: str | None = None
        if isinstance(node, nodes.Getattr):
            attribute = node.attr
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            attribute = node.arg.value
        attributes.append((target.name, attribute))
        accessed[target.name] = accessed.get(target.name, 0) + 1
    # A namespace used on its own (`{{ secrets }}`, `secrets | list`) reads everything in it.
    for name in NAMESPACES:
        uses = sum(1 for n in tree.find_all(nodes.Name) if n.name == name and n.ctx == "load")
        if name in free and uses > accessed.get(name, 0):
            attributes.append((name, None))
    return TemplateReferences(frozenset(free), tuple(attributes))
