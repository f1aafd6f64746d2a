"""Every service type the platform offers. A new service is one module and one line here."""

from townhall.services import (
    address_change,
    bulky_waste,
    certificate,
    eid_card,
    parking_permit,
    public_space_report,
    travel_document,
)
from townhall.services.base import ServiceType

SERVICE_TYPES: dict[str, ServiceType] = {
    module.SERVICE.code: module.SERVICE
    for module in (eid_card, travel_document, address_change, certificate, public_space_report, parking_permit,
                   bulky_waste)
}


def service_type(code: str) -> ServiceType | None:
    return SERVICE_TYPES.get(code)
