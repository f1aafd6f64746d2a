"""Every route declares who may call it. Routes without a declaration stop the app from starting."""

from collections.abc import Callable
from typing import TypeVar

from flask import Flask

View = TypeVar("View", bound=Callable[..., object])
ACCESS_ATTRIBUTE = "townhall_access"
PUBLIC = "public"


def public(view: View) -> View:
    """Anyone may call this route, without credentials (health, contract, public tenant info)."""
    setattr(view, ACCESS_ATTRIBUTE, PUBLIC)
    return view


def access_of(view: Callable[..., object]) -> str | None:
    declared: str | None = getattr(view, ACCESS_ATTRIBUTE, None)
    return declared


def undeclared_endpoints(app: Flask) -> list[str]:
    return sorted(name for name, view in app.view_functions.items() if access_of(view) is None)


def check_declarations(app: Flask) -> None:
    missing = undeclared_endpoints(app)
    if missing:
        raise RuntimeError(f"routes without an access declaration: {', '.join(missing)}")

