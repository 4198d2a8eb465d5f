"""Pure folds: one entity's stored events → its current state and its versions.

No I/O here. Callers pass every stored event that touches the entity, in any
order (for `asOf: T`, only those with eventTime <= T); each fold orders them
itself by (eventTime, store position)."""
