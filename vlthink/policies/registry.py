"""Named policy files and the adapters they name.

A policy file is a small TOML file: ``adapter`` picks the adapter, every other top-level key is
one of that adapter's settings (the fields of its config dataclass)::

    # policies/openvla-align.toml
    adapter = "openvla"
    endpoint = "http://127.0.0.1:8001/act"
    unnorm_key = "bridge_orig"
    action_convention = "euler"

``load_policy("openvla-align")`` reads ``policies/openvla-align.toml``; ``load_policy("my.toml")``
(or any path) reads that file; keyword overrides replace settings. A missing, unknown or
mistyped setting raises :class:`PolicyConfigError` naming the file and the key.

Adding an adapter: ``register_adapter("mine", MyConfig, make_mine)`` where ``MyConfig`` is a
dataclass and ``make_mine(config, name=..., source=...)`` returns a
:class:`~vlthink.policies.base.Policy`. Users' own policies need no registration: name them by
an import string (``adapter = "mypkg.policies:MyPolicy"``, or ``--policy mypkg.policies:MyPolicy``).
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import inspect
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomllib

from vlthink.errors import VLThinkError
from vlthink.paths import policies_dir

# Keys every policy file may carry besides its adapter's settings.
COMMON_KEYS = ("adapter", "name", "description")
# A setting is a secret when one of its words is one of these, or when it is a "key" on its
# own or after one of _KEY_OWNERS (``api_key``, ``hfKey``); not ``unnorm_key`` or ``image_key``
# (names of things), nor ``max_tokens``. A name ending in ``_env`` names the environment
# variable that holds a secret, which is what a manifest should show.
_SECRET_WORDS = frozenset(
    {"token", "secret", "password", "passwd", "passphrase", "credential", "credentials", "apikey"}
)
_KEY_OWNERS = frozenset({"api", "access", "private", "auth", "secret", "client", "hf", "openai"})


class PolicyConfigError(VLThinkError, ValueError):
    """A policy file (or override) is missing a key, has an unknown one, or a wrong type."""


@dataclass(frozen=True)
class AdapterSpec:
    name: str
    # Either the objects themselves or "module:attr" strings imported on first use.
    config_cls: Any
    factory: Any
    doc: str = ""

    def resolve(self) -> tuple[type | None, Callable[..., Any]]:
        return _resolve(self.config_cls), _resolve(self.factory)


def _resolve(obj: Any) -> Any:
    if isinstance(obj, str):
        module, _, attr = obj.partition(":")
        return getattr(importlib.import_module(module), attr)
    return obj


_ADAPTERS: dict[str, AdapterSpec] = {}


def register_adapter(name: str, config_cls: Any, factory: Any, doc: str = "") -> None:
    """Register an adapter. ``config_cls`` None = settings passed through as keyword arguments."""
    _ADAPTERS[name] = AdapterSpec(name, config_cls, factory, doc)


def adapters() -> dict[str, AdapterSpec]:
    return dict(_ADAPTERS)


_P = "vlthink.policies."
register_adapter(
    "openvla",
    _P + "openvla:OpenVLAConfig",
    _P + "openvla:make_openvla",
    "OpenVLA via its REST server (vla-scripts/deploy.py) or in process (transformers)",
)
register_adapter(
    "openpi",
    _P + "openpi:OpenPIConfig",
    _P + "openpi:make_openpi",
    "openpi policy server over websockets (msgpack-numpy)",
)
register_adapter(
    "vla_eval",
    _P + "vla_eval:VlaEvalConfig",
    _P + "vla_eval:make_vla_eval",
    "any vla-eval model server (its websocket protocol, Simpler/WidowX conventions)",
)
register_adapter(
    "vlm-probe",
    _P + "vlm_probe:VLMProbeConfig",
    _P + "vlm_probe:make_vlm_probe",
    "asks a VLM whether it sees the target and where (OpenAI-compatible or transformers)",
)
register_adapter(
    "random",
    _P + "reference:RandomConfig",
    _P + "reference:make_random",
    "uniform random actions, seeded per episode (the floor)",
)
register_adapter(
    "oracle",
    _P + "oracle:OracleConfig",
    _P + "reference:make_oracle",
    "scripted policy on privileged state (the ceiling)",
)


# --- locating and reading files -----------------------------------------------------------------


def available_policies() -> list[str]:
    """Names of the policy files shipped in ``policies/``."""
    d = policies_dir()
    return sorted(p.stem for p in d.glob("*.toml")) if d.is_dir() else []


def find_policy_file(name_or_path: str) -> Path:
    p = Path(name_or_path).expanduser()
    looks_like_path = p.suffix == ".toml" or len(p.parts) > 1
    if looks_like_path or p.is_file():
        if not p.is_file():
            raise PolicyConfigError(f"policy file {p} does not exist")
        return p
    candidate = policies_dir() / f"{name_or_path}.toml"
    if candidate.is_file():
        return candidate
    names = available_policies()
    hint = difflib.get_close_matches(name_or_path, names, n=1)
    raise PolicyConfigError(
        f"no policy named {name_or_path!r} in {policies_dir()}"
        + (f" (did you mean {hint[0]!r}?)" if hint else "")
        + f"; available: {', '.join(names) or 'none'}; or pass the path of a .toml file"
    )


def read_policy_file(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyConfigError(f"{path}: not valid TOML: {exc}") from exc


# --- settings validation ------------------------------------------------------------------------


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in typing.get_args(tp))
    if tp is type(None):
        return "none"
    if origin is not None:
        args = ", ".join(_type_name(a) for a in typing.get_args(tp))
        return f"{getattr(origin, '__name__', origin)}[{args}]"
    return getattr(tp, "__name__", str(tp))


def _check(value: Any, tp: Any) -> tuple[bool, Any]:
    """(ok, coerced value) for a TOML value against a dataclass field type."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return True, value
    if origin is typing.Literal:
        return value in typing.get_args(tp), value
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            ok, v = _check(value, arg)
            if ok:
                return True, v
        return False, value
    if tp is type(None):
        return value is None, value
    if tp is bool:
        return isinstance(value, bool), value
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return ok, float(value) if ok else value
    if tp is str:
        return isinstance(value, str), value
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            return False, value
        args = typing.get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                return False, value
            pairs = list(zip(value, args))
        else:
            pairs = [(v, args[0] if args else Any) for v in value]
        out = []
        for v, a in pairs:
            ok, cv = _check(v, a)
            if not ok:
                return False, value
            out.append(cv)
        return True, origin(out)
    if origin is dict or tp is dict:
        return isinstance(value, dict), value
    return isinstance(value, tp), value


def build_config(config_cls: type, settings: dict[str, Any], source: str) -> Any:
    """Instantiate ``config_cls`` from ``settings``, with one clear error per bad key."""
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    hints = typing.get_type_hints(config_cls)
    valid = ", ".join(fields)
    for key in settings:
        if key not in fields:
            hint = difflib.get_close_matches(key, list(fields), n=1)
            raise PolicyConfigError(
                f"{source}: unknown key {key!r}"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
                + f"; valid keys: {valid}"
            )
    kwargs = {}
    for name, f in fields.items():
        if name not in settings:
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING  # type: ignore[misc]
            if required:
                raise PolicyConfigError(
                    f"{source}: missing required key {name!r} ({_type_name(hints[name])}); "
                    f"valid keys: {valid}"
                )
            continue
        ok, value = _check(settings[name], hints[name])
        if not ok:
            raise PolicyConfigError(
                f"{source}: key {name!r} must be {_type_name(hints[name])}, "
                f"got {settings[name]!r} ({type(settings[name]).__name__})"
            )
        kwargs[name] = value
    cfg = config_cls(**kwargs)
    check = getattr(cfg, "validate", None)
    if check is not None:
        problem = check()
        if problem:  # (key, message)
            key, msg = problem
            raise PolicyConfigError(f"{source}: key {key!r}: {msg}")
    return cfg


def check_kwargs(fn: Callable[..., Any], settings: dict[str, Any], source: str) -> None:
    """For adapters without a config dataclass: settings must match ``fn``'s keyword parameters."""
    sig = inspect.signature(fn)
    params = sig.parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    names = [
        n
        for n, p in params.items()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and n != "self"
    ]
    for key in settings:
        if key not in names:
            hint = difflib.get_close_matches(key, names, n=1)
            raise PolicyConfigError(
                f"{source}: unknown key {key!r}"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
                + f"; valid keys: {', '.join(names) or 'none'}"
            )


def _words(name: str) -> list[str]:
    """``hf_token`` -> [hf, token]; ``apiKey`` -> [api, key] (case-insensitive)."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]


def is_secret(name: str) -> bool:
    """Whether a setting named ``name`` holds a secret (see _SECRET_WORDS)."""
    words = _words(str(name))
    if not words or words[-1] == "env":
        return False
    if any(w in _SECRET_WORDS for w in words):
        return True
    return any(w == "key" and (i == 0 or words[i - 1] in _KEY_OWNERS) for i, w in enumerate(words))


def redact(settings: dict[str, Any]) -> dict[str, Any]:
    """Settings as a manifest may record them: a secret's value never (nested tables too), only
    that it was set."""
    return {
        k: ("***" if is_secret(k) and v else redact(v) if isinstance(v, dict) else v)
        for k, v in settings.items()
    }


def recorded_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """What a run records of an adapter's settings: secrets redacted, and without the retry
    settings, which change how a server is reached, never what it answers (a run resumes
    with more retries)."""
    from vlthink.policies.retry import RETRY_KEYS

    return redact({k: v for k, v in settings.items() if k not in RETRY_KEYS})


# --- the entry point ----------------------------------------------------------------------------


@dataclass
class PolicyFile:
    name: str
    adapter: str
    settings: dict[str, Any]
    source: str  # the file (and "+ overrides") for error messages and the manifest


def is_import_string(text: str) -> bool:
    """``module.path:attr`` (a policy class or factory), as opposed to a name or a file path."""
    module, sep, attr = str(text).partition(":")
    return bool(
        sep
        and module
        and attr
        and "/" not in text
        and not text.endswith(".toml")
        and all(p.isidentifier() for p in module.split(".") + attr.split("."))
    )


def import_target(target: str, source: str) -> Any:
    """The object an import string names, or one error naming what is missing."""
    module, _, attr = target.partition(":")
    try:
        obj: Any = importlib.import_module(module)
    except ImportError as exc:
        raise PolicyConfigError(
            f"{source}: cannot import module {module!r} ({exc}). Fix: install the package that "
            "provides it, or put its folder on PYTHONPATH"
        ) from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise PolicyConfigError(
                f"{source}: module {module!r} has no attribute {attr!r}. Fix: check the name "
                f"after the colon in {target!r}"
            )
        obj = getattr(obj, part)
    if not callable(obj):
        raise PolicyConfigError(f"{source}: {target!r} is not a class or function")
    return obj


def _user_policy(target: str, settings: dict[str, Any], name: str | None, source: str) -> Any:
    """A policy from a user's class or factory: called with the file's settings as keywords."""
    from vlthink.policies.base import PolicyTraits

    make = import_target(target, source)
    check_kwargs(make, settings, source)
    try:
        policy = make(**settings)
    except (TypeError, ValueError) as exc:
        raise PolicyConfigError(f"{source}: {target}({', '.join(settings)}): {exc}") from exc
    try:
        PolicyTraits.of(policy)
    except TypeError as exc:
        raise PolicyConfigError(f"{source}: {target} made {exc}") from None
    name = name or getattr(policy, "name", None) or target.rpartition(":")[2].lower()
    try:
        policy.name = name
    except AttributeError:
        pass
    return policy


def read_policy(name_or_path: str, **overrides: Any) -> PolicyFile:
    path = find_policy_file(name_or_path)
    data = read_policy_file(path)
    source = str(path)
    adapter = data.get("adapter")
    if adapter is None:
        raise PolicyConfigError(
            f"{source}: missing required key 'adapter'; valid adapters: {', '.join(_ADAPTERS)}"
        )
    if adapter not in _ADAPTERS and not is_import_string(str(adapter)):
        hint = difflib.get_close_matches(str(adapter), list(_ADAPTERS), n=1)
        raise PolicyConfigError(
            f"{source}: key 'adapter': unknown adapter {adapter!r}"
            + (f" (did you mean {hint[0]!r}?)" if hint else "")
            + f"; valid adapters: {', '.join(_ADAPTERS)}, or an import string module:attr"
        )
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not name:
        raise PolicyConfigError(f"{source}: key 'name' must be a non-empty string, got {name!r}")
    settings = {k: v for k, v in data.items() if k not in COMMON_KEYS}
    if overrides:
        settings.update(overrides)
        source += f" (with overrides {', '.join(sorted(overrides))})"
    return PolicyFile(name=name, adapter=adapter, settings=settings, source=source)


def load_policy(name_or_path: str, **overrides: Any):
    """Build the policy a named file (``policies/<name>.toml``) or a TOML path describes.

    Constructing a policy does not contact a server or load weights; that happens on the first
    ``reset``. Raises :class:`PolicyConfigError` for any problem with the file's contents.
    """
    if is_import_string(name_or_path) and not Path(name_or_path).is_file():
        policy = _user_policy(name_or_path, dict(overrides), None, f"--policy {name_or_path}")
        policy.config = {"name": policy.name, "adapter": name_or_path, **redact(overrides)}
        return policy
    pf = read_policy(name_or_path, **overrides)
    if pf.adapter not in _ADAPTERS:  # an import string in the file
        policy = _user_policy(pf.adapter, pf.settings, pf.name, pf.source)
        policy.config = {
            "name": pf.name,
            "adapter": pf.adapter,
            "source": pf.source,
            **redact(pf.settings),
        }
        return policy
    config_cls, factory = _ADAPTERS[pf.adapter].resolve()
    if config_cls is None:
        cfg = dict(pf.settings)
    else:
        cfg = build_config(config_cls, pf.settings, pf.source)
    policy = factory(cfg, name=pf.name, source=pf.source)
    settings = dataclasses.asdict(cfg) if dataclasses.is_dataclass(cfg) else dict(cfg)
    policy.config = {
        "name": pf.name,
        "adapter": pf.adapter,
        "source": pf.source,
        **recorded_settings(settings),
    }
    return policy
