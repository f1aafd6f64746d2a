"""Who the caller is, as a municipality's API sees it."""
