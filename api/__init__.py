"""HTTP adapter and composition root: app factory, blueprints, schemas, CLI."""
