"""Restoration methods: a registry of method types and the restorers behind them."""
