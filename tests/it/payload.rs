//! Generated bodies as receivers see them: the canonical fixtures (seed 0), the
//! JavaScript round trip the guide's Node receiver performs, determinism, `--set`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use cakemock::events::{Flavor, catalogue, find};
use cakemock::payload::{Generator, set_path, to_bytes};
use chrono::{DateTime, Utc};
use serde_json::Value;

const UPDATE_ENV: &str = "CAKEMOCK_UPDATE_FIXTURES";

fn at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-03-15T10:30:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn fixture_dir(flavor: Flavor) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/payloads")
        .join(flavor.as_str())
}

/// The canonical body of an event: a fresh generator with seed 0, one contact, one campaign.
fn canonical(flavor: Flavor, name: &str) -> String {
    let mut g = Generator::new(flavor, 0);
    let (contact, campaign) = (g.contact(), g.campaign());
    let body = g.event(find(flavor, name).unwrap(), at(), &contact, &campaign);
    serde_json::to_string_pretty(&body).unwrap() + "\n"
}

#[test]
fn fixtures_match_the_generator() {
    let update = std::env::var_os(UPDATE_ENV).is_some();
    let mut problems = Vec::new();
    for flavor in [Flavor::Docs, Flavor::Api] {
        let dir = fixture_dir(flavor);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
        }
        let mut expected_files = Vec::new();
        for kind in catalogue(flavor) {
            let path = dir.join(format!("{}.json", kind.name));
            expected_files.push(path.clone());
            let now = canonical(flavor, kind.name);
            if update {
                std::fs::write(&path, &now).unwrap();
                continue;
            }
            match std::fs::read_to_string(&path) {
                // Compared as text: key order is part of the wire format.
                Ok(stored) if stored == now => {}
                Ok(stored) => problems.push(format!(
                    "{} differs from the generator:\n--- stored\n{stored}+++ generated\n{now}",
                    path.display()
                )),
                Err(e) => problems.push(format!("{}: {e}", path.display())),
            }
        }
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if !expected_files.contains(&path) {
                problems.push(format!(
                    "{} is not an event of flavor {flavor}",
                    path.display()
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n\nIf the change is intended, regenerate the fixtures with\n  \
         {UPDATE_ENV}=1 cargo test --test it payload\nand review the diff.",
        problems.join("\n\n")
    );
}

#[test]
fn fixtures_are_compact_json_friendly() {
    // The canonical docs body keeps the guide's shape and carries no floats.
    let text = canonical(Flavor::Docs, "email.opened");
    let v: Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<_> = v["data"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys[..5],
        [
            "campaign_id",
            "contact_id",
            "email",
            "user_agent",
            "ip_address"
        ]
    );
    assert!(!text.contains(".0,") && !text.contains('\t'));
}

/// Bodies covering every event of both flavors, many contacts, plus a few `--set`
/// values chosen to stress escaping.
fn round_trip_corpus() -> Vec<String> {
    let mut bodies = Vec::new();
    for (flavor, contacts, seed) in [(Flavor::Docs, 70, 1), (Flavor::Api, 10, 2)] {
        let mut g = Generator::new(flavor, seed);
        for i in 0..contacts {
            let (c, camp) = (g.contact(), g.campaign());
            for kind in catalogue(flavor) {
                let bytes = if i % 2 == 0 {
                    to_bytes(&g.event(kind, at(), &c, &camp))
                } else {
                    g.event_bytes(kind, at(), &c, &camp)
                };
                bodies.push(String::from_utf8(bytes.to_vec()).unwrap());
            }
        }
    }
    let mut g = Generator::new(Flavor::Docs, 3);
    let (c, camp) = (g.contact(), g.campaign());
    for tricky in [
        r#"data.email="quote \" backslash \\ newline \n tab \t nul \u0000 esc \u001b""#,
        "data.email=Zoë Łukasz Søren 佐藤 Дмитрий 😀 \u{2028}\u{2029}\u{7f}",
        r#"data.campaign_id=9007199254740991"#,
        r#"data.contact_id=-9007199254740991"#,
        r#"data={"nested":{"list":[1,"two",true,null,{}],"empty":""},"a":{"b":[]}}"#,
    ] {
        let mut body = g.event(find(Flavor::Docs, "email.sent").unwrap(), at(), &c, &camp);
        set_path(&mut body, tricky).unwrap();
        bodies.push(String::from_utf8(to_bytes(&body).to_vec()).unwrap());
    }
    bodies
}

#[test]
fn bodies_survive_javascripts_parse_and_stringify() {
    let bodies = round_trip_corpus();
    assert!(bodies.len() >= 1_000, "{}", bodies.len());
    for flavor in [Flavor::Docs, Flavor::Api] {
        for kind in catalogue(flavor) {
            let needle = format!("{{\"event\":\"{}\"", kind.name);
            assert!(
                bodies.iter().any(|b| b.starts_with(&needle)),
                "{} not covered",
                kind.name
            );
        }
    }
    let non_ascii = bodies.iter().filter(|b| !b.is_ascii()).count();
    assert!(
        non_ascii > 50,
        "only {non_ascii} bodies carry non-ASCII text"
    );

    // One process for all bodies; each line is one compact body (raw newlines are
    // always escaped inside JSON strings, so '\n' separates bodies exactly).
    let script = "let s='';process.stdin.setEncoding('utf8');\
        process.stdin.on('data',d=>s+=d);process.stdin.on('end',()=>{\
        const out=s.split('\\n').filter(l=>l.length).map(l=>JSON.stringify(JSON.parse(l)));\
        process.stdout.write(out.join('\\n')+'\\n');});";
    let mut child = match Command::new("node")
        .args(["-e", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => panic!(
            "cannot run `node` ({e}): install Node.js (e.g. `apt-get install nodejs`); this test \
             checks that bodies survive the guide's JSON.stringify(JSON.parse(body)) and is \
             not skipped (CI installs Node)"
        ),
    };
    let input = bodies.join("\n") + "\n";
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success(), "node failed: {output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let back: Vec<&str> = text.strip_suffix('\n').unwrap().split('\n').collect();
    assert_eq!(back.len(), bodies.len());
    for (sent, js) in bodies.iter().zip(back) {
        assert_eq!(sent, js, "JavaScript re-serialized this body differently");
    }
}

#[test]
fn same_seed_same_bytes_and_other_seeds_differ() {
    let run = |seed: u64| {
        let mut g = Generator::new(Flavor::Docs, seed);
        let camp = g.campaign();
        let mut out = Vec::new();
        for _ in 0..25 {
            let c = g.contact();
            for kind in catalogue(Flavor::Docs) {
                out.push(g.event_bytes(kind, at(), &c, &camp));
            }
            out.push(g.delivery_id().into());
        }
        out
    };
    assert_eq!(run(9), run(9));
    let (a, b) = (run(9), run(10));
    assert_eq!(a.len(), b.len());
    assert!(a.iter().zip(&b).all(|(x, y)| x != y));
}

#[test]
fn set_changes_existing_fields_and_explains_refusals() {
    let mut g = Generator::new(Flavor::Docs, 0);
    let (c, camp) = (g.contact(), g.campaign());
    let mut body = g.event(find(Flavor::Docs, "email.opened").unwrap(), at(), &c, &camp);
    set_path(&mut body, "data.campaign_id=791").unwrap();
    set_path(&mut body, "data.email=jane@example.com").unwrap();
    let text = String::from_utf8(to_bytes(&body).to_vec()).unwrap();
    assert!(text.contains(r#""campaign_id":791,"#), "{text}");
    assert!(text.contains(r#""email":"jane@example.com""#), "{text}");

    let err = set_path(&mut body, "data.ip=1.2.3.4")
        .unwrap_err()
        .to_string();
    assert!(err.contains("did you mean data.ip_address?"), "{err}");
    let err = set_path(&mut body, "data.campaign_id=79.5")
        .unwrap_err()
        .to_string();
    assert!(err.contains("integers only"), "{err}");
    let err = set_path(&mut body, "data.campaign_id=18014398509481984")
        .unwrap_err()
        .to_string();
    assert!(err.contains("safe integers"), "{err}");
}
