//! The Markdown report: a heading with the verdict, a totals table, the expectations
//! and the steps, compact enough for a CI job summary
//! (`--report markdown=$GITHUB_STEP_SUMMARY`).

use std::fmt::Write as _;

use crate::clock::format_duration;
use crate::record::TerminalState;
use crate::report::Report;
use crate::summary::Summary;

/// Renders `report` as GitHub-flavoured Markdown.
pub fn render(report: &Report) -> String {
    let judgements = report.judgements();
    let mut s = String::new();
    let verdict = if report.interrupted() {
        "⚠️ interrupted"
    } else if report.passed() {
        "✅ passed"
    } else {
        "❌ failed"
    };
    let _ = writeln!(s, "### cakemock: {} {verdict}\n", cell(&report.title()));
    for run in report.runs() {
        let _ = writeln!(
            s,
            "- `{}` (seed {})",
            run.command.replace('`', "'"),
            run.seed
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "| events | delivered | rejected | gone | exhausted | dropped | cancelled | attempts | retries | p50 | p90 | p99 | max |"
    );
    let _ = writeln!(s, "|{}", "---:|".repeat(13));
    let sum = report.summary();
    let _ = write!(s, "| {} ", sum.generated);
    for st in TerminalState::ALL {
        let _ = write!(s, "| {} ", sum.count(st));
    }
    let _ = write!(s, "| {} | {} ", sum.attempts, sum.retries);
    for q in [0.5, 0.9, 0.99] {
        let _ = write!(s, "| {} ", latency(sum.latency(q)));
    }
    let _ = writeln!(s, "| {} |", latency(sum.max_latency()));

    if !judgements.is_empty() {
        let _ = writeln!(s, "\n| | expectation | evidence |\n|---|---|---|");
        for j in &judgements {
            let mark = if j.passed { "✅" } else { "❌" };
            let _ = writeln!(s, "| {mark} | {} | {} |", cell(&j.name), cell(&j.detail));
        }
    }

    let steps: Vec<(&str, &Summary)> = report.steps().collect();
    if !steps.is_empty() {
        let _ = writeln!(
            s,
            "\n| step | events | delivered | not delivered | attempts | p99 |\n|---|---:|---:|---:|---:|---:|"
        );
        for (label, st) in steps {
            let delivered = st.count(TerminalState::Delivered);
            let _ = writeln!(
                s,
                "| {} | {} | {delivered} | {} | {} | {} |",
                cell(label),
                st.generated,
                st.generated.saturating_sub(delivered),
                st.attempts,
                latency(st.latency(0.99))
            );
        }
    }
    if !report.faults().is_empty() {
        let _ = writeln!(s, "\n| fault | events | attempts |\n|---|---:|---:|");
        for (name, st) in report.faults() {
            let _ = writeln!(s, "| {} | {} | {} |", cell(name), st.generated, st.attempts);
        }
    }
    s
}

fn latency(d: Option<std::time::Duration>) -> String {
    d.map_or_else(|| "-".to_string(), format_duration)
}

/// Text safe in a table cell: HTML and pipes escaped, line breaks as `<br>`.
fn cell(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace('\n', "<br>")
}
