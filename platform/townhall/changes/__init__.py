"""The versioned history of a municipality's configuration: who changed what, when, from what to what."""
