"""Input handling: validation, scaling, corruption, datasets and file formats."""
