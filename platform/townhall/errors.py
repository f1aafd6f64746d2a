"""Domain errors. They say what went wrong in the domain's words; the API maps them to problems."""

from collections.abc import Mapping, Sequence


class TownhallError(Exception):
    """Base of every expected, explainable failure."""

    title = "Request failed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(TownhallError):
    title = "Not found"


class Conflict(TownhallError):
    title = "Conflict"


class Forbidden(TownhallError):
    title = "Forbidden"


class InvalidInput(TownhallError):
    """Input failed validation; `errors` maps each failing field to its messages."""

    title = "Validation failed"

    def __init__(self, errors: Mapping[str, Sequence[str]], detail: str = "The input is not valid.") -> None:
        super().__init__(detail)
        self.errors = {field: list(messages) for field, messages in errors.items()}


class Refused(TownhallError):
    """Well-formed input the domain says no to (not eligible, a rule that cannot decide): 422 with a
    more precise `code` on the subclass."""

    title = "Refused"
    code = "refused"


class StaleVersion(TownhallError):
    """The caller changed a version of the resource that is no longer current."""

    title = "Precondition failed"
