"""The config fields that hold secret values: what sops encrypts (config.md's
encrypted_regex order). A module of its own so that starting sops imports no models."""

SECRET_FIELDS = ("token", "appPassword", "password", "privateKey")
