"""Life events in, proactive actions out."""
