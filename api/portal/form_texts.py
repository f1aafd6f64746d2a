"""The application forms' words in the portal: each field's label and each choice's, and the cases'
statuses, in nl, fr, de and en (the forms themselves are the services' published schemas)."""

from api.console.texts import LANGUAGES

_FIELDS: dict[str, tuple[str, str, str, str]] = {
    "reason": ("Reden", "Motif", "Grund", "Reason"),
    "police_report": ("Nummer van het proces-verbaal", "Numéro du procès-verbal", "Nummer der Anzeige",
                      "Police report reference"),
    "contact_phone": ("Telefoonnummer", "Numéro de téléphone", "Telefonnummer", "Phone number"),
    "photo": ("Foto", "Photo", "Foto", "Photo"),
    "express": ("Spoedprocedure", "Procédure d'urgence", "Eilverfahren", "Express"),
    "new_address": ("Nieuw adres", "Nouvelle adresse", "Neue Adresse", "New address"),
    "street": ("Straat", "Rue", "Straße", "Street"),
    "number": ("Huisnummer", "Numéro", "Hausnummer", "Number"),
    "box": ("Bus", "Boîte", "Briefkasten", "Box"),
    "postal_code": ("Postcode", "Code postal", "Postleitzahl", "Postal code"),
    "municipality": ("Gemeente", "Commune", "Gemeinde", "Municipality"),
    "moved_on": ("Verhuisd op", "Déménagé le", "Umgezogen am", "Moved on"),
    "household": ("Gezinsleden die mee verhuizen (één per regel)",
                  "Membres du ménage qui déménagent (un par ligne)",
                  "Mitziehende Haushaltsmitglieder (eines pro Zeile)",
                  "Household members moving with you (one a line)"),
    "kind": ("Soort", "Type", "Art", "Kind"),
    "language": ("Taal van het attest", "Langue du certificat", "Sprache der Bescheinigung",
                 "Language of the certificate"),
    "purpose": ("Waarvoor", "Pour quoi", "Wofür", "Purpose"),
    "category": ("Wat is er aan de hand?", "De quoi s'agit-il ?", "Worum geht es?", "What is it?"),
    "description": ("Beschrijving", "Description", "Beschreibung", "Description"),
    "lat": ("Breedtegraad", "Latitude", "Breitengrad", "Latitude"),
    "long": ("Lengtegraad", "Longitude", "Längengrad", "Longitude"),
    "address": ("Adres of plaats", "Adresse ou lieu", "Adresse oder Ort", "Address or place"),
    "plate": ("Nummerplaat", "Plaque d'immatriculation", "Kennzeichen", "Number plate"),
    "zone": ("Zone", "Zone", "Zone", "Zone"),
    "starts_on": ("Vanaf", "À partir du", "Ab", "Starts on"),
    "items": ("Wat mag er mee?", "Qu'emporter ?", "Was soll mit?", "What to pick up"),
    "quantity": ("Aantal", "Nombre", "Anzahl", "Quantity"),
    "volume_m3": ("Volume (m³)", "Volume (m³)", "Volumen (m³)", "Volume (m³)"),
    "notes": ("Opmerkingen", "Remarques", "Bemerkungen", "Notes"),
}
_CHOICES: dict[str, tuple[str, str, str, str]] = {
    "first": ("Eerste aanvraag", "Première demande", "Erstantrag", "First one"),
    "renewal": ("Vernieuwing", "Renouvellement", "Erneuerung", "Renewal"),
    "lost": ("Verloren", "Perdu", "Verloren", "Lost"),
    "stolen": ("Gestolen", "Volé", "Gestohlen", "Stolen"),
    "damaged": ("Beschadigd", "Endommagé", "Beschädigt", "Damaged"),
    "change_of_data": ("Gegevens gewijzigd", "Données modifiées", "Daten geändert", "Change of data"),
    "full": ("Vol", "Plein", "Voll", "Full"),
    "residence": ("Woonst", "Résidence", "Wohnsitz", "Residence"),
    "household_composition": ("Gezinssamenstelling", "Composition de ménage", "Haushaltszusammensetzung",
                              "Household composition"),
    "life": ("Leven", "Vie", "Lebensbescheinigung", "Life"),
    "pothole": ("Put in de weg", "Nid-de-poule", "Schlagloch", "Pothole"),
    "litter": ("Zwerfvuil", "Déchets", "Abfall", "Litter"),
    "street_light": ("Straatverlichting", "Éclairage public", "Straßenbeleuchtung", "Street light"),
    "graffiti": ("Graffiti", "Graffiti", "Graffiti", "Graffiti"),
    "illegal_dumping": ("Sluikstort", "Dépôt clandestin", "Illegale Müllablage", "Illegal dumping"),
    "other": ("Iets anders", "Autre chose", "Etwas anderes", "Something else"),
    "furniture": ("Meubels", "Meubles", "Möbel", "Furniture"),
    "mattress": ("Matras", "Matelas", "Matratze", "Mattress"),
    "appliance": ("Toestel", "Appareil", "Gerät", "Appliance"),
    "wood": ("Hout", "Bois", "Holz", "Wood"),
    "metal": ("Metaal", "Métal", "Metall", "Metal"),
    "nl": ("Nederlands", "Néerlandais", "Niederländisch", "Dutch"),
    "fr": ("Frans", "Français", "Französisch", "French"),
    "de": ("Duits", "Allemand", "Deutsch", "German"),
    "en": ("Engels", "Anglais", "Englisch", "English"),
}


_STATUSES: dict[str, tuple[str, str, str, str]] = {
    "submitted": ("ingediend", "introduite", "eingereicht", "submitted"),
    "fee_due": ("te betalen", "à payer", "zu bezahlen", "fee due"),
    "production_ordered": ("in aanmaak", "en production", "in Herstellung", "production ordered"),
    "ready_for_pickup": ("klaar om af te halen", "prête à retirer", "abholbereit", "ready for pickup"),
    "pickup_booked": ("afhaalafspraak gemaakt", "retrait réservé", "Abholtermin gebucht", "pickup booked"),
    "handed_over": ("afgehaald", "remise", "ausgehändigt", "handed over"),
    "cancelled": ("geannuleerd", "annulée", "storniert", "cancelled"),
    "neighbourhood_check": ("wijkcontrole", "contrôle de quartier", "Wohnsitzkontrolle", "neighbourhood check"),
    "registered": ("ingeschreven", "enregistrée", "eingetragen", "registered"),
    "refused": ("geweigerd", "refusée", "abgelehnt", "refused"),
    "issued": ("afgeleverd", "délivrée", "ausgestellt", "issued"),
    "requested": ("aangevraagd", "demandée", "beantragt", "requested"),
    "acknowledged": ("ontvangen", "reçue", "eingegangen", "acknowledged"),
    "in_progress": ("in behandeling", "en cours", "in Bearbeitung", "in progress"),
    "resolved": ("opgelost", "résolue", "erledigt", "resolved"),
    "closed": ("afgesloten", "clôturée", "abgeschlossen", "closed"),
    "scheduled": ("ingepland", "planifiée", "geplant", "scheduled"),
    "collected": ("opgehaald", "enlevée", "abgeholt", "collected"),
}


def _by_language(table: dict[str, tuple[str, str, str, str]]) -> dict[str, dict[str, str]]:
    return {code: {key: words[index] for key, words in table.items()} for index, code in enumerate(LANGUAGES)}


FIELD_LABELS = _by_language(_FIELDS)
STATUS_LABELS = _by_language(_STATUSES)
CHOICE_LABELS = _by_language(_CHOICES)


def label(language: str, name: str) -> str:
    return FIELD_LABELS[language].get(name) or name.replace("_", " ").capitalize()


def choice(language: str, value: str) -> str:
    return CHOICE_LABELS[language].get(value) or value.replace("_", " ").capitalize()


def status_words(language: str, code: str) -> str:
    """A case's status in words (a workflow's state; one the table lacks is shown as its code reads)."""
    return STATUS_LABELS[language].get(code) or code.replace("_", " ")
