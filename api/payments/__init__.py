"""/t/<tenant>/v1/cases/<id>/payments and the payment provider's notices."""
