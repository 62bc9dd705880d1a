"""Model weight files: what each model needs, where it lives, and how to get it offline."""
