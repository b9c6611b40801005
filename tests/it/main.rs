//! cakemock's integration tests: one binary, one module per area.

mod deliver; // the delivery loop against the in-process receiver
mod scenario_load; // scenario files: the SPEC example, the invalid corpus, schema, validate
mod sign; // known-answer vectors and the `sign` / `verify` commands
mod support; // shared fixtures: TLS certificates
mod trigger; // `cakemock trigger` as a user runs it
