"""Reads for spend control: settings, budgets and their progress, alerts, unit economics."""
