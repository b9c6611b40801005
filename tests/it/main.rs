//! cakemock's integration tests: one binary, one module per area.

mod deliver; // the delivery loop against the in-process receiver
mod funnel; // the campaign timeline: funnel shares, causality, order, determinism
mod payload; // canonical fixtures, the Node JSON round trip, determinism, --set
mod receiver; // the embedded receiver: verification, response scripts, TLS, h2c, listen
mod reports; // --report formats, the JSON Schema, `cakemock report` merging, exit codes
mod scenario_load; // scenario loading: strict errors, the invalid corpus, budgets, schema, validate
mod scenarios; // `cakemock run`: shipped scenarios, step kinds, templates, time, expectations
mod sign; // known-answer vectors and the `sign` / `verify` commands
mod support; // shared fixtures: TLS certificates, raw HTTP clients
mod trigger; // `cakemock trigger` as a user runs it
