"""Image-quality metrics: one table of names, directions and weights; backends load lazily."""
