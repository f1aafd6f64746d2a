"""What the citizen's portal says, in the four languages it speaks (nl, fr, de, en)."""

from api.console.texts import LANGUAGES

_TEXTS: dict[str, tuple[str, str, str, str]] = {
    # key: (nl, fr, de, en)
    "portal": ("E-loket", "Guichet en ligne", "Online-Schalter", "Online counter"),
    "skip": ("Naar de inhoud", "Aller au contenu", "Zum Inhalt", "Skip to content"),
    "language": ("Taal", "Langue", "Sprache", "Language"),
    "services": ("Onze diensten", "Nos services", "Unsere Dienstleistungen", "Our services"),
    "intro": ("Vraag aan wanneer het u past: u hoeft er geen dag verlof voor te nemen.",
              "Faites votre demande quand cela vous convient : inutile de prendre un jour de congé.",
              "Beantragen Sie, wann es Ihnen passt: dafür brauchen Sie keinen Tag Urlaub.",
              "Apply whenever it suits you: no need to take a day off."),
    "fee": ("Kostprijs", "Prix", "Gebühr", "Fee"),
    "free": ("Gratis", "Gratuit", "Kostenlos", "Free"),
    "ready_in": ("Klaar binnen", "Prêt en", "Fertig in", "Ready in"),
    "working_days": ("werkdagen", "jours ouvrables", "Werktagen", "working days"),
    "at_once": ("Meteen klaar", "Prêt immédiatement", "Sofort fertig", "Ready at once"),
    "bring": ("Wat u nodig hebt", "Ce qu'il vous faut", "Was Sie brauchen", "What you need"),
    "nothing_to_bring": ("Niets meer dan uw gegevens", "Rien de plus que vos données", "Nur Ihre Angaben",
                         "Nothing but your details"),
    "evidence_photo": ("Een recente pasfoto", "Une photo d'identité récente", "Ein aktuelles Passbild",
                       "A recent passport photo"),
    "channels": ("Aanvragen", "Demander", "Beantragen", "Apply"),
    "channel_online": ("online", "en ligne", "online", "online"),
    "channel_counter": ("aan het loket", "au guichet", "am Schalter", "at the counter"),
    "none_offered": ("Deze gemeente biedt nog geen diensten online aan.",
                     "Cette commune ne propose pas encore de services en ligne.",
                     "Diese Gemeinde bietet noch keine Dienste online an.",
                     "This municipality offers no services online yet."),
    "contact": ("Contact", "Contact", "Kontakt", "Contact"),
}

TEXTS = {code: {key: values[index] for key, values in _TEXTS.items()} for index, code in enumerate(LANGUAGES)}
