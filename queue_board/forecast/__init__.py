"""The estimator, pure numpy: what the branch has learned from its log and the ranges it forecasts.

``durations`` learns transaction lengths, wrap-up, reaction, pauses, patience and the daily
rhythm from events; ``monte_carlo`` runs the branch forward under its call rule;
``calibration`` corrects the ranges by how earlier ones turned out; ``classic`` holds the
yardstick predictors. No Flask, no database, no simulator.
"""
