"""Alert rules: declared in YAML, matched against scored events, evaluated on keyed state."""
