"""The citizen's portal of each municipality, server-rendered at /t/<tenant>/."""
