"""The shared bot catalog: published versions with digests, maturity proven by run history,
city overlays, signed bundles."""
