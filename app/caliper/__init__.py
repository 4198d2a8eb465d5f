"""Reading Caliper: envelopes, both styles, normalised columns. Pure: no I/O."""
