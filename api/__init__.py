"""HTTP adapter and composition root: app factory, blueprints, schemas, CLI.

Each folder with routes adapts one kernel (or tenancy) package; where the names differ, this table
is the one place that says which (tests/test_layout.py keeps it complete and true):

    api folder      adapts
    appointments    townhall.appointments
    audit           townhall.audit
    branding        tenants
    cases           townhall.cases
    changes         townhall.changes
    clients         townhall.auth
    console         townhall.auth   (web sessions; its pages act through branding, catalogue, rules, cases)
    delegations     townhall.auth   (a municipality's delegations to the consortium's teams)
    email_templates townhall.outbox (the words of each e-mail)
    health          -               (health, readiness, the contract and its docs page)
    landing         tenants
    me              townhall.auth
    members         townhall.auth
    oauth           townhall.auth
    payments        townhall.payments
    platform        tenants         (municipalities; teams and delegations: townhall.auth)
    portal          townhall.services (the citizens' pages: the catalogue first)
    privacy         townhall.privacy
    proactive       townhall.proactive
    rules           townhall.rules
    services        townhall.services
    webhooks        townhall.outbox

Request schemas: a feature's request schemas (what its routes and operations accept) live in the
`schemas.py` of the kernel or tenancy package it adapts (`townhall.<feature>.schemas`,
`tenants.schemas`), never inline in routes; a service's form schema lives in its service module.
`api/<folder>/schemas.py` exists only for the shapes the API adds to its answers.
"""
