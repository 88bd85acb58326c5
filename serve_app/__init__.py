"""Clinical scribe backend: ingress, app builder, settings, schemas and engines."""
