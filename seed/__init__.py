"""One deterministic semester of Blackboard Learn Caliper traffic, shared by the
tests, the benchmarks and the demo.

- seed.generator: `generate_semester(seed, scale) -> Semester` (envelopes in
  arrival order + the ground truth); `python -m seed.generator --write`
  regenerates the committed demo file.
- seed.truth: `GroundTruth` and its parts, `as_of(instant_ms)`.
- seed.loader: `demo_path()`, `iter_demo_envelopes(scale)`, `demo_truth()`.

Kept import-free so that `python -m seed.generator` runs the module only once.
"""
