"""Typer's coercion of parameter values, without Pydantic where it would change nothing.

Typer 0.29 coerces every value but a bool flag's through a Pydantic TypeAdapter built on
first use: importing Pydantic and building the adapters is about a fifth of the CPU time of
`liaison screen` on one record. A value that already has its parameter's plain type (a
default, the text given to a str option, the texts given to a list[str] one) comes out of
those adapters unchanged, so it is passed through here; any other value, a number typed on
the command line for one, goes to Typer's own coercion, its error messages included.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from typer._click import Command, Context
from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
from typer.core import _TyperParameter

_PLAIN = (str, int, float, bool)
_TEXTS = list[str]


@dataclass(frozen=True)
class _PlainValues(RuntimeParam):
    """A parameter's coercion: a plain value as it is, anything else Typer's (built once)."""

    descriptor: TypeDescriptor

    @cached_property
    def _typer(self) -> RuntimeParam:
        return build_runtime_param(self.descriptor)

    @cached_property
    def _plain(self) -> bool:
        """Whether Typer's adapter returns a value of the parameter's type as it is: a plain
        type without a parser, bounds or a file to open."""
        info = self.descriptor.parameter_info
        return (
            (self.annotation in _PLAIN or self.annotation == _TEXTS)
            and self.descriptor.file_annotation is None
            and info.parser is None
            and info.min is None
            and info.max is None
            and not info.clamp
        )

    def _coerce_value(self, value: Any, param: _TyperParameter, ctx: Context) -> Any:
        # RuntimeParam.coerce settled None (no value given) and a text for a list before this.
        if self._plain:
            if self.annotation == _TEXTS:
                if isinstance(value, list | tuple) and all(type(item) is str for item in value):
                    return list(value)
            elif type(value) is self.annotation:  # exactly: Pydantic makes 1 of True for an int
                return value
        return self._typer.coerce(value, param=param, ctx=ctx)


def pass_plain_values(command: Command) -> None:
    """Gives the parameters of `command`, and of its subcommands, the coercion above."""
    # Its --help option is made on first use (and kept), from the names its context allows.
    context = command.context_class(command, **command.context_settings)
    for param in [*command.params, command.get_help_option(context)]:
        if isinstance(param, _TyperParameter):
            descriptor = param.type_descriptor
            param._runtime_param = _PlainValues(
                descriptor.parameter_info, descriptor.annotation, descriptor
            )
    for subcommand in getattr(command, "commands", {}).values():
        pass_plain_values(subcommand)
