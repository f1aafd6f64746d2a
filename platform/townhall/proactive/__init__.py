"""Proactive and prescriptive service: life events in, the municipality's proactive rules act
(inform, offer a pre-filled case, open it). It sits above `townhall.cases`, whose `open_case` it
calls; cases never import it."""
