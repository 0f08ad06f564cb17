"""Run model-written Python safely and fast: warm forked workers, limits, namespaces."""

from .pool import ExecResult, Sandbox, SandboxConfig

__all__ = ["ExecResult", "Sandbox", "SandboxConfig"]
