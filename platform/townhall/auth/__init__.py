"""Identity and access: people, memberships, shared back-office teams, delegations, OAuth clients,
signing keys, scopes and roles."""
