"""Offline tools, apart from the server: ``replay`` a log into the predictions CSV, score it,
``evaluate`` the engine against the classic predictors and the oracle (matplotlib only here)."""
