//! cakemock's integration tests: one binary, one module per area.

mod deliver; // the delivery loop against the in-process receiver
mod fault_runs; // fault runs from the CLI: expect.faults, --fault, chaos and ci-contract scenarios
mod fault_transport; // transport faults on the wire: dripped, aborted and reset connections
mod faults; // content and delivery faults as the receiver saw them, seeded decisions
mod funnel; // the campaign timeline: funnel shares, causality, order, determinism
mod payload; // canonical fixtures, the Node JSON round trip, determinism, --set
mod receiver; // the embedded receiver: verification, response scripts, TLS, h2c, listen
mod reports; // --report formats, the JSON Schema, `cakemock report` merging, exit codes
mod scenario_load; // scenario loading: strict errors, the invalid corpus, budgets, schema, validate
mod scenarios; // `cakemock run`: shipped scenarios, step kinds, templates, time, expectations
mod serve; // `cakemock serve`: the mock API's shapes, auth, fan-out, rate limits, races with the CLI
mod sign; // known-answer vectors and the `sign` / `verify` commands
mod support; // shared fixtures: TLS certificates, raw HTTP clients
mod trigger; // `cakemock trigger` as a user runs it
mod webhooks; // `cakemock webhooks` and store-mode fan-out as a user runs them
