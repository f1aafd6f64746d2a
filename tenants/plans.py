"""The plans a platform operator puts a municipality on: what its traffic may be. The figures are the
platform's (one list, set here); the API's rate limits take them from the municipality's plan."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    code: str
    names: dict[str, str]  # per language
    client_requests_per_minute: int  # per client of the municipality
    person_requests_per_minute: int  # per citizen signed in through one of its clients


PLANS: dict[str, Plan] = {plan.code: plan for plan in (
    Plan("small", {"nl": "Klein", "fr": "Petit", "de": "Klein", "en": "Small"}, 300, 60),
    Plan("standard", {"nl": "Standaard", "fr": "Standard", "de": "Standard", "en": "Standard"}, 1200, 120),
    Plan("large", {"nl": "Groot", "fr": "Grand", "de": "Groß", "en": "Large"}, 6000, 300),
)}
DEFAULT_PLAN = "standard"
