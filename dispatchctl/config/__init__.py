"""The config file: models, parsing with positions, sops, semantic checks, loading."""
