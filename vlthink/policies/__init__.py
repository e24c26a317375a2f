"""Policy adapters: the models vlthink evaluates and the reference policies.

``load_policy("openvla-align")`` builds the policy a named file in ``policies/`` describes (or a
path to a TOML file); see :mod:`vlthink.policies.base` for the interface and
:mod:`vlthink.policies.registry` for the file format. Adapters that talk to a model server
retry transient failures through :mod:`vlthink.policies.retry` (policy-file keys ``retries``,
``backoff_s``; ``policy.stats["retries"]`` counts them).
"""

from vlthink.policies.base import ACTION_DIM, EpisodeSpec, Observation, Policy, PolicyError
from vlthink.policies.registry import (
    PolicyConfigError,
    available_policies,
    load_policy,
    register_adapter,
)

__all__ = [
    "ACTION_DIM",
    "EpisodeSpec",
    "Observation",
    "Policy",
    "PolicyError",
    "PolicyConfigError",
    "available_policies",
    "load_policy",
    "register_adapter",
]
