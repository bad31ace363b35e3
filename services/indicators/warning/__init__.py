"""Early warning of dossiers at risk of being late (issue 3): adapters, sweep, API and wiring."""
