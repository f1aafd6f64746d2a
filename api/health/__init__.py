"""Health and readiness, the contract and its docs page (operations, in this project, are write use-cases)."""
