"""Game models: data and cost evaluation, no solving."""
