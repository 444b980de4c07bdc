"""A connector as plain data, generated from its models: what ``bots connectors list --json``
and ``show`` print, and what a web console can render the same way::

    installed = registry.installed()
    describe(installed.connectors["civento"], installed.origins["civento"])
"""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel

from orchestrator.model.registry import ConnectorSpec


def describe(spec: ConnectorSpec, origin: str = "") -> dict[str, Any]:
    """A connector as plain data, generated from its models: what ``bots connectors list
    --json`` and ``show`` print. Example::

        {"name": "civento", "description": "...", "steps": [],
         "actions": [{"name": "vorgang_lesen", "use": "civento.vorgang_lesen",
                      "description": "...", "returns": "...",
                      "arguments": [{"name": "nummer", "type": "string", "required": True,
                                     "description": "...", "secret": False}]}], ...}
    """
    return {
        "name": spec.name,
        "description": spec.description,
        "version": spec.version,
        "origin": origin,
        "session": spec.session is not None,
        "uses": list(spec.uses),
        "labels": list(spec.labels),
        "flows": str(spec.flows) if spec.flows is not None else None,
        "settings": _fields(spec.settings, ()) if spec.settings is not None else [],
        "steps": [
            {
                "kind": step.name,
                "qualified": step.qualified,
                "raw_interaction": step.raw_interaction,
                "description": _doc(step.model),
                "options": _fields(step.model, step.secret_fields, skip=_COMMON_OPTIONS),
                "creates": list(step.creates),
            }
            for step in spec.steps
        ],
        "types": _types(spec),
        "actions": [
            {
                "name": action.name,
                "use": f"{spec.name}.{action.name}",
                "description": action.description,
                "returns": action.returns,
                "arguments": _fields(action.arguments, action.secret_arguments),
            }
            for action in spec.actions
        ],
    }


#: Options every step has (described once, in docs/bot-language.md).
_COMMON_OPTIONS = frozenset({"name", "when", "timeout"})


def _doc(model: type[BaseModel]) -> str:
    text = (model.__doc__ or "").strip()
    return " ".join(text.split("\n\n")[0].split()) if text else ""


def _types(spec: ConnectorSpec) -> list[dict[str, Any]]:
    """The models its step options are made of (a locator, a wait condition), each once, in
    the order the steps first use them: what ``Control`` or ``WindowQuery`` in a step's
    options means."""
    found: dict[str, type[BaseModel]] = {}

    def visit(model: type[BaseModel]) -> None:
        for info in model.model_fields.values():
            for inner in _models_in(info.annotation):
                if inner.__name__ not in found and not inner.__name__.endswith("Step"):
                    found[inner.__name__] = inner
                    visit(inner)

    for step in spec.steps:
        visit(step.model)
    return [
        {"name": name, "description": _doc(model), "fields": _fields(model, ())}
        for name, model in found.items()
    ]


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation names (inside unions, lists, dicts, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


def _fields(
    model: type[BaseModel], secret: tuple[str, ...], skip: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    schema = model.model_json_schema(by_alias=True)
    if "$ref" in schema:  # a recursive model (a step holding steps): its own definition
        schema = schema.get("$defs", {}).get(str(schema["$ref"]).rsplit("/", 1)[-1], schema)
    properties = schema.get("properties", {})
    out = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        if name in skip:
            continue
        required = info.is_required()
        out.append(
            {
                "name": key,
                "type": _type_name(properties.get(key, {})),
                "required": required,
                "default": None
                if required
                else _plain(info.get_default(call_default_factory=True)),
                "description": info.description or "",
                "secret": key in secret or name in secret,
            }
        )
    return out


def _type_name(prop: dict[str, Any]) -> str:
    if prop.get("type") == "array" and "items" in prop:
        items = prop["items"]
        inner = "step" if "oneOf" in items and len(items["oneOf"]) > 3 else _type_name(items)
        return f"list of {inner}"
    if "enum" in prop and len(prop["enum"]) <= 8:
        return " | ".join(repr(v) for v in prop["enum"])
    if "type" in prop:
        return str(prop["type"])
    if "$ref" in prop:
        return str(prop["$ref"]).rsplit("/", 1)[-1]
    for key in ("anyOf", "oneOf"):
        if key in prop:
            names = [_type_name(p) for p in prop[key] if p.get("type") != "null"]
            return " | ".join(dict.fromkeys(names)) or "any"
    if "enum" in prop:
        return " | ".join(repr(v) for v in prop["enum"])
    return "any"


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)
