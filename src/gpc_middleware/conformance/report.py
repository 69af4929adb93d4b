"""The outcome of a conformance run: one :class:`CheckResult` per check, gathered in a
:class:`ConformanceReport` that renders as a terminal table or as JSON, and fails a test through
:meth:`ConformanceReport.assert_ok`.

A check says ``warn`` when it found something a person must review (a third-party host the
catalog does not know, a notice the regulations say a site *should* show): not a pass, and
not a failure either unless the caller asks for strictness (``assert_ok(strict=True)``,
``gpc-middleware check --strict``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["pass", "warn", "fail", "n/a"]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one check: its name, status, a one-line summary and the evidence."""

    check: str
    status: Status
    summary: str
    evidence: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status,
            "summary": self.summary,
            "evidence": list(self.evidence),
        }


class ConformanceError(AssertionError):
    """Raised by :meth:`ConformanceReport.assert_ok`; its message is the readable report."""


@dataclass(frozen=True, slots=True)
class ConformanceReport:
    """All check results for one target. ``ok`` when no applicable check failed."""

    target: str
    pages: tuple[str, ...]
    results: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        return all(result.status != "fail" for result in self.results)

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        return tuple(result for result in self.results if result.status == "fail")

    @property
    def warnings(self) -> tuple[CheckResult, ...]:
        return tuple(result for result in self.results if result.status == "warn")

    def result(self, check: str) -> CheckResult:
        for result in self.results:
            if result.check == check:
                return result
        raise KeyError(check)

    def assert_ok(self, *, strict: bool = False) -> ConformanceReport:
        """Raise :class:`ConformanceError` naming every failed check (``strict``: and every
        warning); return ``self`` otherwise."""
        if not self.ok or (strict and self.warnings):
            raise ConformanceError("\n" + self.format(verbose=True))
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "pages": list(self.pages),
            "ok": self.ok,
            "results": [result.to_json() for result in self.results],
        }

    def format(self, *, color: bool = False, verbose: bool = False) -> str:
        """A readable table; ``verbose`` adds the evidence of every check (failures always)."""
        paint = _painter(color)
        width = max(len(result.check) for result in self.results) if self.results else 10
        lines = [
            f"GPC conformance of {self.target} ({len(self.pages)} page(s): {', '.join(self.pages)})",
            "",
        ]
        for result in self.results:
            status = {
                "pass": paint("PASS", "32"),
                "warn": paint("WARN", "35"),
                "fail": paint("FAIL", "31"),
                "n/a": paint("N/A ", "33"),
            }[result.status]
            lines.append(f"  {status}  {result.check:<{width}}  {result.summary}")
            if verbose or result.status in ("fail", "warn"):
                lines.extend(f"        {paint('·', '2')} {item}" for item in result.evidence)
        passed = sum(r.status == "pass" for r in self.results)
        failed = sum(r.status == "fail" for r in self.results)
        skipped = sum(r.status == "n/a" for r in self.results)
        warned = f", {len(self.warnings)} to review" if self.warnings else ""
        lines += ["", f"{passed} passed, {failed} failed, {skipped} not applicable{warned}"]
        return "\n".join(lines)


def _painter(color: bool) -> Callable[[str, str], str]:
    if not color:
        return lambda text, code: text
    return lambda text, code: f"\x1b[{code}m{text}\x1b[0m"


def describe_target(target: object) -> str:
    """How a report names what it checked: a URL as it is, an app by its own qualified name.

    A function or class names itself (``myproject.app.application``); an instance its class.
    """
    if isinstance(target, str):
        return target
    own_name = getattr(target, "__qualname__", None)
    if isinstance(own_name, str) and isinstance(getattr(target, "__module__", None), str):
        return f"{target.__module__}.{own_name}"
    return f"{type(target).__module__}.{type(target).__qualname__}"
