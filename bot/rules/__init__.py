"""Policy-as-code: the schema, the loader and validator of policies/*.yaml, the calculator (no I/O beyond YAML)."""
