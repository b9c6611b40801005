//! Reports: one accumulator, [`Report`], fed attempt-log records (live from the
//! recorder, or read back from logs by `cakemock report`), rendered in each format
//! asked for with `--report FORMAT=PATH`. One file per format, as in hyperfine's
//! `export/`; [`live`] is the progress bar and the stdout/stderr split.

pub mod json;
pub mod junit;
pub mod live;
pub mod markdown;

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

use crate::InputError;
use crate::expect::Judgement;
use crate::record::{EndRecord, JudgementRecord, Record};
use crate::session::Session;
use crate::summary::Summary;

/// The formats `--report` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Junit,
    Markdown,
    Text,
}

impl Format {
    pub const ALL: [(&'static str, Format); 4] = [
        ("json", Format::Json),
        ("junit", Format::Junit),
        ("markdown", Format::Markdown),
        ("text", Format::Text),
    ];

    /// Renders `report` in this format.
    pub fn render(self, report: &Report) -> Result<String> {
        Ok(match self {
            Format::Json => json::render(report)?,
            Format::Junit => junit::render(report)?,
            Format::Markdown => markdown::render(report),
            Format::Text => text(report),
        })
    }
}

/// One `--report FORMAT=PATH`; `-` as PATH is stdout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSpec {
    pub format: Format,
    pub path: PathBuf,
}

impl ReportSpec {
    pub fn is_stdout(&self) -> bool {
        self.path.as_os_str() == "-"
    }
}

impl FromStr for ReportSpec {
    type Err = InputError;

    fn from_str(s: &str) -> Result<Self, InputError> {
        let names: Vec<&str> = Format::ALL.iter().map(|(n, _)| *n).collect();
        let Some((format, path)) = s.split_once('=') else {
            return Err(InputError::new(format!(
                "{s:?}: expected FORMAT=PATH, e.g. junit=report.xml or json=- for stdout; formats: {}",
                names.join(", ")
            )));
        };
        let format = format.trim().to_ascii_lowercase();
        let Some((_, f)) = Format::ALL.iter().find(|(n, _)| *n == format) else {
            let hint = crate::error::did_you_mean(&format, names.iter().copied())
                .map(|n| format!(" (did you mean {n}?)"))
                .unwrap_or_default();
            return Err(InputError::new(format!(
                "unknown report format {format:?}{hint}; formats: {}",
                names.join(", ")
            )));
        };
        if path.is_empty() {
            return Err(InputError::new(format!(
                "{s:?}: the path is empty; write {format}=FILE, or {format}=- for stdout"
            )));
        }
        Ok(ReportSpec {
            format: *f,
            path: PathBuf::from(path),
        })
    }
}

/// Refuses two reports on stdout (they would interleave). Called before a run starts.
pub fn check(specs: &[ReportSpec]) -> Result<(), InputError> {
    if specs.iter().filter(|s| s.is_stdout()).count() > 1 {
        return Err(InputError::new(
            "--report: only one report can go to stdout (-); write the others to files",
        ));
    }
    Ok(())
}

/// True when a report takes stdout, so everything else must go to stderr.
pub fn stdout_taken(specs: &[ReportSpec]) -> bool {
    specs.iter().any(ReportSpec::is_stdout)
}

/// Renders and writes every requested report (all are rendered before any is written).
pub fn write_all(specs: &[ReportSpec], report: &Report) -> Result<()> {
    let rendered = specs
        .iter()
        .map(|s| s.format.render(report).map(|text| (s, text)))
        .collect::<Result<Vec<_>>>()?;
    for (spec, text) in rendered {
        if spec.is_stdout() {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
        } else {
            std::fs::write(&spec.path, text)
                .with_context(|| format!("--report: cannot write {}", spec.path.display()))?;
        }
    }
    Ok(())
}

/// The reports of a live run: observes the recorder, then closes the log with the
/// verdicts and writes every requested report (also after Ctrl-C).
pub struct Reporting {
    specs: Vec<ReportSpec>,
    log: Option<PathBuf>,
    report: Option<Arc<Mutex<Report>>>,
}

impl Reporting {
    /// Starts accumulating (only when a report was asked for: per-step histograms cost memory).
    pub fn start(specs: &[ReportSpec], log: Option<&Path>, session: &Session) -> Reporting {
        let report = (!specs.is_empty()).then(|| {
            let mut first = Report::new();
            first.add(&session.run_record);
            let report = Arc::new(Mutex::new(first));
            let feed = report.clone();
            session.recorder.observe(move |rec, _| {
                feed.lock().unwrap_or_else(|p| p.into_inner()).add(rec);
            });
            report
        });
        Reporting {
            specs: specs.to_vec(),
            log: log.map(Path::to_path_buf),
            report,
        }
    }

    /// Appends the verdicts and the `end` line to the log, and writes the reports.
    pub fn finish(
        self,
        judgements: &[Judgement],
        interrupted: bool,
        name: Option<String>,
    ) -> Result<()> {
        let closing = closing_records(judgements, interrupted, name);
        if let Some(log) = &self.log {
            crate::record::append_log(log, &closing)?;
        }
        if let Some(report) = self.report {
            let mut report = report.lock().unwrap_or_else(|p| p.into_inner());
            for r in &closing {
                report.add(r);
            }
            write_all(&self.specs, &report)?;
        }
        Ok(())
    }
}

/// The records that close a run's log: each judgement, then the `end` line.
pub fn closing_records(
    judgements: &[Judgement],
    interrupted: bool,
    name: Option<String>,
) -> Vec<Record> {
    let mut out: Vec<Record> = judgements
        .iter()
        .map(|j| {
            Record::Judgement(JudgementRecord {
                name: j.name.clone(),
                passed: j.passed,
                detail: j.detail.clone(),
            })
        })
        .collect();
    out.push(Record::End(EndRecord {
        ended_at: Utc::now(),
        interrupted,
        name,
    }));
    out
}

/// What one log (one run) says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct RunMeta {
    pub tool: String,
    pub command: String,
    pub seed: u64,
    pub started_at: DateTime<Utc>,
    /// Absent when the log was cut short (the process was killed).
    pub ended_at: Option<DateTime<Utc>>,
    pub interrupted: bool,
    pub name: Option<String>,
}

/// One log's verdict on one expectation: (run number, passed, evidence).
type Verdict = (usize, bool, String);

/// The accumulator every format renders: run metadata, the summary, per-step and
/// per-fault summaries, and the expectations' verdicts.
#[derive(Debug, Default)]
pub struct Report {
    runs: Vec<RunMeta>,
    summary: Summary,
    steps: Vec<(String, Summary)>,
    step_index: HashMap<String, usize>,
    faults: BTreeMap<String, Summary>,
    /// Verdicts by name in first-seen order, each with the run (1-based) it came from.
    judgements: Vec<(String, Vec<Verdict>)>,
}

impl Report {
    pub fn new() -> Self {
        Report {
            summary: Summary::from_records(),
            ..Report::default()
        }
    }

    /// Reads and merges logs (shards): counts add up, latency histograms merge exactly.
    pub fn from_logs(paths: &[PathBuf]) -> Result<Report> {
        let mut report = Report::new();
        for path in paths {
            if let Err(e) = std::fs::metadata(path) {
                return Err(InputError::new(format!(
                    "{}: cannot read the log: {e}",
                    path.display()
                ))
                .into());
            }
            for record in crate::record::read_log(path)? {
                report.add(&record);
            }
        }
        Ok(report)
    }

    pub fn add(&mut self, record: &Record) {
        self.summary.add(record);
        match record {
            Record::Run(r) => self.runs.push(RunMeta {
                tool: r.tool.clone(),
                command: r.command.clone(),
                seed: r.seed,
                started_at: r.started_at,
                ended_at: None,
                interrupted: false,
                name: None,
            }),
            Record::Attempt(a) => {
                // Events without a step (`trigger`) are grouped by event name.
                self.step(a.step.as_deref().unwrap_or(&a.event)).add(record);
                if let Some(f) = &a.fault {
                    self.fault(f).add(record);
                }
            }
            Record::Terminal(t) => {
                self.step(t.step.as_deref().unwrap_or(&t.event)).add(record);
                if let Some(f) = &t.fault {
                    self.fault(f).add(record);
                }
            }
            Record::Judgement(j) => {
                let run = self.runs.len().max(1);
                match self.judgements.iter_mut().find(|(n, _)| *n == j.name) {
                    Some((_, seen)) => seen.push((run, j.passed, j.detail.clone())),
                    None => self
                        .judgements
                        .push((j.name.clone(), vec![(run, j.passed, j.detail.clone())])),
                }
            }
            Record::End(e) => {
                if let Some(run) = self.runs.last_mut() {
                    run.ended_at = Some(e.ended_at);
                    run.interrupted = e.interrupted;
                    run.name = e.name.clone();
                }
            }
        }
    }

    fn step(&mut self, label: &str) -> &mut Summary {
        let i = match self.step_index.get(label) {
            Some(i) => *i,
            None => {
                self.steps
                    .push((label.to_string(), Summary::from_records()));
                self.step_index
                    .insert(label.to_string(), self.steps.len() - 1);
                self.steps.len() - 1
            }
        };
        &mut self.steps[i].1
    }

    fn fault(&mut self, name: &str) -> &mut Summary {
        self.faults
            .entry(name.to_string())
            .or_insert_with(Summary::from_records)
    }

    pub fn runs(&self) -> &[RunMeta] {
        &self.runs
    }

    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// Per-step summaries, in the order steps first sent.
    pub fn steps(&self) -> impl Iterator<Item = (&str, &Summary)> {
        self.steps.iter().map(|(n, s)| (n.as_str(), s))
    }

    /// Per-fault summaries, by fault name.
    pub fn faults(&self) -> &BTreeMap<String, Summary> {
        &self.faults
    }

    /// The verdicts. One log: as recorded. Several: one per name, passed only if it
    /// passed in every log, with each log's evidence. Logs that recorded none (a library
    /// run, an older log) are held to `delivered: 100%`, as `run` is by default.
    pub fn judgements(&self) -> Vec<Judgement> {
        if self.judgements.is_empty() {
            return crate::expect::run_wide(&crate::scenario::Expect::default(), &self.summary);
        }
        self.judgements
            .iter()
            .map(|(name, seen)| match seen.as_slice() {
                [(_, passed, detail)] => Judgement {
                    name: name.clone(),
                    passed: *passed,
                    detail: detail.clone(),
                },
                _ => Judgement {
                    name: name.clone(),
                    passed: seen.iter().all(|(_, p, _)| *p),
                    detail: seen
                        .iter()
                        .map(|(run, _, d)| format!("log {run}: {}", d.replace('\n', "\n  ")))
                        .collect::<Vec<_>>()
                        .join("\n"),
                },
            })
            .collect()
    }

    /// The judgement of step `label`'s own `expect:`, if it has one.
    pub fn step_judgement<'a>(judgements: &'a [Judgement], label: &str) -> Option<&'a Judgement> {
        let prefix = format!("step {label}: ");
        judgements.iter().find(|j| j.name.starts_with(&prefix))
    }

    pub fn interrupted(&self) -> bool {
        self.runs.iter().any(|r| r.interrupted)
    }

    /// Every expectation met and no run interrupted.
    pub fn passed(&self) -> bool {
        !self.interrupted() && self.judgements().iter().all(|j| j.passed)
    }

    /// What the reports call this run: the scenario's name, else the command.
    pub fn title(&self) -> String {
        match self.runs.as_slice() {
            [] => "cakemock".into(),
            [one] => one.name.clone().unwrap_or_else(|| one.command.clone()),
            many => format!("{} logs merged", many.len()),
        }
    }

    /// From the first start to the last end seen.
    pub fn span(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let start = self.runs.iter().map(|r| r.started_at).min()?;
        let end = self.runs.iter().filter_map(|r| r.ended_at).max()?;
        Some((start, end))
    }
}

/// The text summary (what `run` prints at the end), with the verdicts.
pub fn text(report: &Report) -> String {
    let mut s = report.summary.render();
    if report.interrupted() {
        s.push_str("interrupted by Ctrl-C\n");
    }
    s.push_str(&crate::expect::render(&report.judgements()));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_errors_list_the_formats() {
        let s: ReportSpec = "junit=out/report.xml".parse().unwrap();
        assert_eq!(s.format, Format::Junit);
        assert_eq!(s.path, PathBuf::from("out/report.xml"));
        assert!("json=-".parse::<ReportSpec>().unwrap().is_stdout());
        let e = "jsno=x".parse::<ReportSpec>().unwrap_err().to_string();
        assert!(e.contains("did you mean json"), "{e}");
        assert!(e.contains("json, junit, markdown, text"), "{e}");
        let e = "report.xml".parse::<ReportSpec>().unwrap_err().to_string();
        assert!(e.contains("FORMAT=PATH"), "{e}");
        assert!("json=".parse::<ReportSpec>().is_err());
    }

    #[test]
    fn only_one_report_may_take_stdout() {
        let two: Vec<ReportSpec> = ["json=-", "junit=-"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert!(check(&two).is_err());
        assert!(check(&two[..1]).is_ok());
    }
}
