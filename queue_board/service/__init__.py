"""The imperative shell around the core: keep each branch's projection current with the store,
write events, refresh forecasts and hand boards to whoever pushes them. No Flask."""
