"""Cases over HTTP: citizens apply, staff and partners act, everyone sees only what they may."""
