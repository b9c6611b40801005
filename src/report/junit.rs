//! The JUnit XML report (quick-junit): one test suite per report, a test case per
//! expectation (classname `expectations`) and per step (classname `steps`). A step's
//! case fails exactly when its own `expect:` failed, so the report has a failure iff
//! an expectation failed (exit code 1); an interrupted run adds a failing `run` case.

use anyhow::Result;
use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use crate::expect::Judgement;
use crate::record::TerminalState;
use crate::report::Report;
use crate::summary::Summary;

/// Renders `report` as JUnit XML.
pub fn render(report: &Report) -> Result<String> {
    let judgements = report.judgements();
    let mut suite = TestSuite::new(report.title());
    for run in report.runs() {
        suite.add_property(Property::new("command", run.command.as_str()));
        suite.add_property(Property::new("seed", run.seed.to_string()));
    }
    if let Some((start, end)) = report.span() {
        suite.set_timestamp(start.fixed_offset());
        if let Ok(d) = (end - start).to_std() {
            suite.set_time(d);
        }
    }
    for j in &judgements {
        suite.add_test_case(case("expectations", &j.name, Some(j), None));
    }
    for (label, summary) in report.steps() {
        let own = Report::step_judgement(&judgements, label);
        suite.add_test_case(case("steps", label, own, Some(summary)));
    }
    if report.interrupted() {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status.set_message("interrupted by Ctrl-C: the run did not finish");
        let mut c = TestCase::new("completed", status);
        c.set_classname("run");
        suite.add_test_case(c);
    }
    let mut xml = quick_junit::Report::new("cakemock");
    xml.add_test_suite(suite);
    let mut s = xml.to_string()?;
    if !s.ends_with('\n') {
        s.push('\n');
    }
    Ok(s)
}

/// A case that fails when `judgement` failed; a step's case carries its counts as output.
fn case(
    classname: &str,
    name: &str,
    judgement: Option<&Judgement>,
    counts: Option<&Summary>,
) -> TestCase {
    let status = match judgement {
        Some(j) if !j.passed => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let first = j.detail.lines().next().unwrap_or_default();
            s.set_message(format!("{}: {first}", j.name));
            s.set_description(j.detail.as_str());
            s
        }
        _ => TestCaseStatus::success(),
    };
    let mut c = TestCase::new(name, status);
    c.set_classname(classname);
    let mut out = String::new();
    if let Some(s) = counts {
        out = format!(
            "{} events: {} delivered, {} not; {} attempts ({} retries)",
            s.generated,
            s.count(TerminalState::Delivered),
            s.generated
                .saturating_sub(s.count(TerminalState::Delivered)),
            s.attempts,
            s.retries
        );
    }
    if let Some(j) = judgement.filter(|j| j.passed) {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&j.detail);
    }
    if !out.is_empty() {
        c.set_system_out(out);
    }
    c
}
