"""The login, consent and error pages of /oauth/authorize: small, server-rendered, in the person's
language, under the municipality's name and colours. No scripts, no third-party assets."""

from typing import Any

from flask import Response, render_template_string

from tenants.registry import BrandingSnapshot, TenantSnapshot
from townhall.auth.scopes import SCOPES
from townhall.localisation import pick

TEXT: dict[str, dict[str, str]] = {
    "nl": {"sign_in": "Aanmelden", "email": "E-mailadres", "password": "Wachtwoord",
           "wrong": "Dit e-mailadres en wachtwoord passen niet bij elkaar.",
           "asks": "{client} vraagt toegang tot:", "allow": "Toestaan", "deny": "Weigeren",
           "error": "Deze aanvraag kan niet verder.", "signed_in_as": "Aangemeld als {name}",
           "expired": "Dit formulier is verlopen; begin opnieuw."},
    "fr": {"sign_in": "Se connecter", "email": "Adresse e-mail", "password": "Mot de passe",
           "wrong": "Cette adresse e-mail et ce mot de passe ne correspondent pas.",
           "asks": "{client} demande l'accès à :", "allow": "Autoriser", "deny": "Refuser",
           "error": "Cette demande ne peut pas aboutir.", "signed_in_as": "Connecté en tant que {name}",
           "expired": "Ce formulaire a expiré ; recommencez."},
    "de": {"sign_in": "Anmelden", "email": "E-Mail-Adresse", "password": "Passwort",
           "wrong": "E-Mail-Adresse und Passwort passen nicht zusammen.",
           "asks": "{client} bittet um Zugriff auf:", "allow": "Erlauben", "deny": "Ablehnen",
           "error": "Diese Anfrage kann nicht fortgesetzt werden.", "signed_in_as": "Angemeldet als {name}",
           "expired": "Dieses Formular ist abgelaufen; bitte neu beginnen."},
    "en": {"sign_in": "Sign in", "email": "E-mail address", "password": "Password",
           "wrong": "This e-mail address and password do not match.",
           "asks": "{client} asks for access to:", "allow": "Allow", "deny": "Deny",
           "error": "This request cannot go on.", "signed_in_as": "Signed in as {name}",
           "expired": "This form expired; start again."},
}

PAGE = """<!doctype html>
<html lang="{{ language }}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{ title }} — {{ municipality }}</title>
  <style>
    body { font-family: system-ui, sans-serif; margin: 0; background: #f5f5f5; color: #222; }
    header { background: {{ primary }}; color: #fff; padding: 1rem 1.5rem; font-size: 1.25rem; }
    main { max-width: 28rem; margin: 2rem auto; background: #fff; padding: 1.5rem; border-radius: .5rem; }
    label { display: block; margin-top: 1rem; }
    input[type=email], input[type=password] { width: 100%; padding: .5rem; box-sizing: border-box; }
    button { margin-top: 1.25rem; padding: .6rem 1.2rem; border: 0; border-radius: .3rem;
             background: {{ primary }}; color: #fff; font-size: 1rem; }
    button.secondary { background: #ddd; color: #222; }
    .error { color: #b00020; }
    .accent { border-top: 4px solid {{ accent }}; }
  </style>
</head>
<body>
  <header>{{ municipality }}</header>
  <main class="accent">
    <h1>{{ title }}</h1>
    {% if message %}<p class="error" role="alert">{{ message }}</p>{% endif %}
    {% if kind == "login" %}
    <form method="post">
      <input type="hidden" name="action" value="login">
      <input type="hidden" name="csrf" value="{{ csrf }}">
      <label>{{ t.email }} <input type="email" name="email" autocomplete="username" required></label>
      <label>{{ t.password }} <input type="password" name="password" autocomplete="current-password" required></label>
      <button type="submit">{{ t.sign_in }}</button>
    </form>
    {% elif kind == "consent" %}
    <p>{{ signed_in_as }}</p>
    <p>{{ asks }}</p>
    <ul>{% for scope in scopes %}<li><strong>{{ scope[0] }}</strong>: {{ scope[1] }}</li>{% endfor %}</ul>
    <form method="post">
      <input type="hidden" name="action" value="consent">
      <input type="hidden" name="csrf" value="{{ csrf }}">
      <button type="submit" name="decision" value="allow">{{ t.allow }}</button>
      <button type="submit" name="decision" value="deny" class="secondary">{{ t.deny }}</button>
    </form>
    {% endif %}
  </main>
</body>
</html>
"""

# Clickjacking and content injection: never framed, nothing loaded from elsewhere, no scripts.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


def render(kind: str, language: str, tenant: TenantSnapshot | None, branding: BrandingSnapshot | None,
           status: int = 200, **values: Any) -> Response:
    text = TEXT.get(language, TEXT["en"])
    municipality = pick(branding.display_name, [language, tenant.default_language])[1] if branding and tenant \
        else "Townhall"
    title = {"login": text["sign_in"], "consent": text["allow"] + "?", "error": text["error"]}[kind]
    html = render_template_string(
        PAGE, kind=kind, language=language, t=text, title=title, municipality=municipality,
        primary=branding.primary_colour if branding else "#1d4f91",
        accent=branding.accent_colour if branding else "#f2c200", **values)
    response = Response(html, status=status, mimetype="text/html")
    response.headers.update(PAGE_HEADERS)
    return response


def scope_lines(scope: str) -> list[tuple[str, str]]:
    return [(name, SCOPES.get(name, "")) for name in scope.split()]
