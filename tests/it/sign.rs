//! Signatures against known answers made by Python and openssl (fixtures/signatures.json),
//! and the `sign` / `verify` commands as a user runs them: output, exit codes, reasons.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use cakemock::sign::{Scheme, Secret, Signer, VerifyError};
use predicates::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    generated_by: String,
    cross_checked_by: String,
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    scheme: Scheme,
    secret: String,
    signature_header: Option<String>,
    msg_id: Option<String>,
    timestamp: Option<i64>,
    body: String,
    headers: Vec<(String, String)>,
}

fn fixture() -> Fixture {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/signatures.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn header_map(pairs: &[(String, String)]) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    for (k, v) in pairs {
        h.insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    h
}

/// The same secret with one character changed (still valid base64 for `whsec_` secrets).
fn one_char_off(secret: &str) -> String {
    let at = secret.find('_').map_or(0, |i| i + 1);
    let mut chars: Vec<char> = secret.chars().collect();
    chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// The same body with its last byte changed, or one byte added to an empty body.
fn one_byte_off(body: &[u8]) -> Vec<u8> {
    let mut b = body.to_vec();
    match b.last_mut() {
        Some(last) => *last ^= 0x01,
        None => b.push(b'x'),
    }
    b
}

#[test]
fn the_fixture_covers_every_scheme_and_the_awkward_cases() {
    let f = fixture();
    assert!(f.generated_by.contains("Python"), "{}", f.generated_by);
    assert!(
        f.cross_checked_by.contains("openssl dgst"),
        "{}",
        f.cross_checked_by
    );
    let v = &f.vectors;
    for scheme in Scheme::ALL {
        let of = |pred: &dyn Fn(&Vector) -> bool| v.iter().any(|x| x.scheme == scheme && pred(x));
        assert!(of(&|x| x.body.is_empty()), "{scheme}: empty body");
        assert!(of(&|x| !x.body.is_ascii()), "{scheme}: non-ASCII body");
        assert!(of(&|x| x.body.len() > 4096), "{scheme}: long body");
        assert!(
            of(&|x| x.signature_header.is_some()),
            "{scheme}: custom header"
        );
        assert!(
            of(&|x| x.body.contains("\"email.sent\"")),
            "{scheme}: docs body"
        );
    }
    assert!(
        v.iter()
            .any(|x| x.scheme == Scheme::Standard && x.secret.starts_with("whsec_"))
    );
    // The Standard Webhooks spec's published example is among them, unchanged.
    assert!(v.iter().any(|x| {
        x.headers
            .iter()
            .any(|(_, val)| val == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }));
}

#[test]
fn signer_produces_exactly_the_known_headers_and_rejects_one_byte_changes() {
    for v in fixture().vectors {
        let name = &v.name;
        let signer =
            Signer::new(v.scheme, Secret::new(&v.secret), v.signature_header.clone()).unwrap();
        let id = v.msg_id.as_deref().unwrap_or("ignored");
        let ts = v.timestamp.unwrap_or(0);
        let body = v.body.as_bytes();
        assert_eq!(signer.sign(id, ts, body), v.headers, "{name}");

        let h = header_map(&v.headers);
        let tol = Duration::from_secs(300);
        assert_eq!(signer.verify(&h, body, ts + 10, tol), Ok(()), "{name}");
        assert_eq!(
            signer.verify(&h, &one_byte_off(body), ts, tol),
            Err(VerifyError::Mismatch),
            "{name}: changed body"
        );
        let other = Signer::new(
            v.scheme,
            Secret::new(one_char_off(&v.secret)),
            v.signature_header.clone(),
        )
        .unwrap();
        assert_eq!(
            other.verify(&h, body, ts, tol),
            Err(VerifyError::Mismatch),
            "{name}: changed secret"
        );
    }
}

fn cakemock() -> Command {
    let mut c = Command::cargo_bin("cakemock").unwrap();
    c.env_remove("CAKEMOCK_SECRET").env_remove("WEBHOOK_SECRET");
    c
}

fn vector(name: &str) -> Vector {
    fixture()
        .vectors
        .into_iter()
        .find(|v| v.name == name)
        .unwrap()
}

fn body_file(dir: &tempfile::TempDir, bytes: &[u8]) -> PathBuf {
    let p = dir.path().join("body.json");
    std::fs::write(&p, bytes).unwrap();
    p
}

fn as_lines(headers: &[(String, String)]) -> String {
    headers.iter().map(|(k, v)| format!("{k}: {v}\n")).collect()
}

#[test]
fn sign_prints_the_known_headers_for_a_file_or_stdin() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["hex-utf8-body", "base64-api-typical", "hex-custom-header"] {
        let v = vector(name);
        let file = body_file(&dir, v.body.as_bytes());
        let mut cmd = cakemock();
        cmd.args([
            "sign",
            "--secret",
            &v.secret,
            "--signature",
            v.scheme.as_str(),
        ]);
        if let Some(h) = &v.signature_header {
            cmd.args(["--signature-header", h]);
        }
        cmd.arg(&file)
            .assert()
            .success()
            .stdout(as_lines(&v.headers));
    }
    let v = vector("standard-long-body");
    let ts = v.timestamp.unwrap().to_string();
    cakemock()
        .args([
            "sign",
            "--signature",
            "standard",
            "--id",
            v.msg_id.as_deref().unwrap(),
            "--timestamp",
            &ts,
        ])
        .env("WEBHOOK_SECRET", &v.secret)
        .write_stdin(v.body.clone())
        .assert()
        .success()
        .stdout(as_lines(&v.headers));
    // --flavor api picks cakemail-base64; an empty body is signed like any other.
    let v = vector("base64-empty-body");
    cakemock()
        .args(["sign", "--flavor", "api", "-"])
        .env("CAKEMOCK_SECRET", &v.secret)
        .assert()
        .success()
        .stdout(as_lines(&v.headers));
}

#[test]
fn sign_without_a_secret_or_file_says_what_to_pass() {
    cakemock()
        .args(["sign", "body.json"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("--secret")
                .and(predicate::str::contains("CAKEMOCK_SECRET"))
                .and(predicate::str::contains("WEBHOOK_SECRET")),
        );
    cakemock()
        .args(["sign", "--secret", "S", "no/such/body.json"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("no/such/body.json")
                .and(predicate::str::contains("no such file")),
        );
}

#[test]
fn verify_accepts_what_sign_printed_in_every_scheme() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "hex-docs-typical",
        "base64-utf8-body",
        "standard-docs-typical",
    ] {
        let v = vector(name);
        let file = body_file(&dir, v.body.as_bytes());
        let signed = cakemock()
            .args([
                "sign",
                "--secret",
                &v.secret,
                "--signature",
                v.scheme.as_str(),
            ])
            .arg(&file)
            .output()
            .unwrap();
        assert!(signed.status.success(), "{name}");
        cakemock()
            .args([
                "verify",
                "--secret",
                &v.secret,
                "--signature",
                v.scheme.as_str(),
            ])
            .args(["--header", std::str::from_utf8(&signed.stdout).unwrap()])
            .arg(&file)
            .assert()
            .success()
            .stdout(format!("✓ verified ({})\n", v.scheme));
    }
}

fn verify_hex(body: &[u8], header: &str, secret: &str) -> assert_cmd::assert::Assert {
    let dir = tempfile::tempdir().unwrap();
    let file = body_file(&dir, body);
    cakemock()
        .args(["verify", "--secret", secret, "-H", header])
        .arg(&file)
        .assert()
}

#[test]
fn verify_names_the_knowable_cause_of_a_mismatch() {
    let v = vector("hex-docs-typical");
    let sig = &v.headers[0].1;
    // A wrong secret and a changed body look the same to HMAC.
    verify_hex(v.body.as_bytes(), sig, "wrong")
        .code(1)
        .stdout(predicate::str::contains(
            "signature mismatch: wrong secret, or the body changed after signing",
        ));
    verify_hex(&one_byte_off(v.body.as_bytes()), sig, &v.secret)
        .code(1)
        .stdout(predicate::str::contains(
            "wrong secret, or the body changed",
        ));
    // An editor's trailing newline.
    let with_newline = format!("{}\n", v.body);
    verify_hex(with_newline.as_bytes(), sig, &v.secret)
        .code(1)
        .stdout(
            predicate::str::contains("trailing newline")
                .and(predicate::str::contains("wrong secret").not()),
        );
    // Pretty-printed after signing.
    let value: serde_json::Value = serde_json::from_str(&v.body).unwrap();
    let pretty = serde_json::to_string_pretty(&value).unwrap();
    verify_hex(pretty.as_bytes(), sig, &v.secret)
        .code(1)
        .stdout(predicate::str::contains("compact form"));
    // The right digest in base64, given to the hex scheme.
    let b64 = &vector("base64-docs-body");
    let b64_signer = Signer::new(Scheme::CakemailBase64, Secret::new(&b64.secret), None).unwrap();
    let b64_sig = b64_signer.sign("", 0, b64.body.as_bytes()).remove(0).1;
    verify_hex(b64.body.as_bytes(), &b64_sig, &b64.secret)
        .code(1)
        .stdout(predicate::str::contains("--signature cakemail-base64"));
    // A Standard Webhooks signature where a cakemail one is expected.
    verify_hex(
        v.body.as_bytes(),
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        &v.secret,
    )
    .code(1)
    .stdout(
        predicate::str::contains("header malformed")
            .and(predicate::str::contains("shape of a standard signature")),
    );
}

#[test]
fn verify_reports_missing_headers_and_stale_timestamps() {
    let v = vector("standard-docs-typical");
    let dir = tempfile::tempdir().unwrap();
    let file = body_file(&dir, v.body.as_bytes());
    let std_verify = || {
        let mut c = cakemock();
        c.args(["verify", "--signature", "standard", "--secret", &v.secret])
            .arg(&file);
        c
    };
    // Only the signature: webhook-id is missing.
    std_verify()
        .args(["-H", &v.headers[2].1])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("header missing: webhook-id"));
    // All three, but signed in 2024: outside the default 5m tolerance, yet the signature is right.
    std_verify()
        .args(["-H", &as_lines(&v.headers)])
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("timestamp outside tolerance")
                .and(predicate::str::contains("signature itself matches")),
        );
    // A header of another scheme instead of ours.
    let hex = vector("hex-docs-typical");
    cakemock()
        .args([
            "verify",
            "--secret",
            &hex.secret,
            "-H",
            &format!("x-signature: {}", hex.headers[0].1),
        ])
        .arg(&file)
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("header missing: X-Cakemail-Signature")
                .and(predicate::str::contains("--signature cakemail-base64")),
        );
}

#[test]
fn verify_usage_errors_exit_2() {
    // No secret.
    cakemock()
        .args(["verify", "-H", "abc", "body.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("CAKEMOCK_SECRET"));
    // No --header at all.
    cakemock()
        .args(["verify", "--secret", "S", "body.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--header"));
    // A header name that is not one.
    cakemock()
        .args(["verify", "--secret", "S", "-H", "bad name: x", "-"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a header name"));
    // A bad tolerance.
    cakemock()
        .args([
            "verify",
            "--secret",
            "S",
            "-H",
            "x",
            "--tolerance",
            "5",
            "-",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unit is missing"));
    // A standard secret that is not base64.
    cakemock()
        .args([
            "verify",
            "--signature",
            "standard",
            "--secret",
            "not base64!",
            "-H",
            "x",
            "-",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("whsec_"));
}
