//! The command line's verdicts on runs that could not check anything: an unreachable endpoint
//! is "nothing was checked" (exit 3), never a pass; a malformed URL is one line (exit 2).

use std::process::Command;

fn seqcheck(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_seqcheck"))
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

#[test]
fn an_unreachable_endpoint_is_nothing_checked_not_a_pass() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let (code, stdout, stderr) = seqcheck(&["check", "--endpoint", &url, "--cases", "2"]);
    assert_eq!(code, Some(3), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("nothing was checked"), "{stdout}");
    assert!(
        stdout.lines().count() <= 2,
        "one clear line, not a dump: {stdout}"
    );
}

#[test]
fn a_malformed_endpoint_url_is_one_line_and_a_usage_error() {
    for url in [
        "http//127.0.0.1:4567",
        "http://127.0.0.1:notaport",
        "ftp://127.0.0.1",
    ] {
        let (code, stdout, stderr) = seqcheck(&["check", "--endpoint", url]);
        assert_eq!(code, Some(2), "{url}: stdout: {stdout}\nstderr: {stderr}");
        assert!(stderr.contains("invalid endpoint URL"), "{url}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{url}: {stderr}");
    }
}

#[test]
fn a_passing_run_exits_zero_and_a_broken_twin_exits_one() {
    let (code, stdout, _) = seqcheck(&["check", "--cases", "8", "--areas", "routing"]);
    assert_eq!(code, Some(0), "{stdout}");
    let (code, stdout, _) = seqcheck(&[
        "check",
        "--cases",
        "96",
        "--areas",
        "routing",
        "--twin",
        "explicit-hash-key-ignored",
    ]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("distinct unrecorded finding"), "{stdout}");
}

#[test]
fn slow_checks_expiry_with_clock_control_and_shows_the_twin_that_expires_early() {
    let (code, stdout, _) = seqcheck(&["check", "--cases", "2", "--areas", "routing", "--slow"]);
    assert_eq!(code, Some(0), "{stdout}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with("expiry (slow)"))
        .unwrap_or_else(|| panic!("no slow row in\n{stdout}"));
    assert!(row.contains("passed"), "{row}");
    assert!(stdout.contains("(2 Expiry checks)"), "{stdout}");
    let (code, stdout, _) = seqcheck(&[
        "check",
        "--cases",
        "2",
        "--areas",
        "routing",
        "--slow",
        "--twin",
        "iterator-expires-early",
    ]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("counterexample in slow check `expiry (slow)`"),
        "{stdout}"
    );
    assert!(stdout.contains("ExpiredIteratorException"), "{stdout}");
    // Without --slow nothing of it runs.
    let (code, stdout, _) = seqcheck(&["check", "--cases", "2", "--areas", "routing"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(!stdout.contains("expiry (slow)"), "{stdout}");
}

/// `history check`: an anomaly fails the check (exit 1) unless its class is recorded for the
/// implementation, in which case it is still reported with its count; a recorded file for
/// another class hides nothing; a file that does not say why is a usage error.
#[test]
fn recorded_history_classes_are_reported_and_only_they_are_tolerated() {
    let dir = std::env::temp_dir().join(format!("seqcheck-cli-recorded-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let history = dir.join("h.jsonl");
    let history = history.to_str().expect("utf-8 path");
    let (code, _, stderr) = seqcheck(&[
        "history",
        "synth",
        "--events",
        "3000",
        "--crashes",
        "0",
        "--inject",
        "lost-write",
        "--out",
        history,
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, stdout, _) = seqcheck(&["history", "check", history]);
    assert_eq!(code, Some(1), "{stdout}");

    let write = |name: &str, body: &str| {
        let path = dir.join(name);
        std::fs::write(&path, body).expect("recorded file");
        path.to_str().expect("utf-8 path").to_owned()
    };
    let lost = write(
        "lost.json",
        r#"{"recorded": [{"class": "lost-write", "why": "a known defect"}]}"#,
    );
    let (code, stdout, _) = seqcheck(&["history", "check", history, "--recorded", &lost]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("recorded lost-write: 1 found"), "{stdout}");

    let other = write(
        "other.json",
        r#"{"recorded": [{"class": "phantom", "why": "another defect"}]}"#,
    );
    let (code, stdout, _) = seqcheck(&["history", "check", history, "--recorded", &other]);
    assert_eq!(code, Some(1), "{stdout}");

    let silent = write(
        "silent.json",
        r#"{"recorded": [{"class": "lost-write", "why": " "}]}"#,
    );
    let (code, _, stderr) = seqcheck(&["history", "check", history, "--recorded", &silent]);
    assert_eq!(code, Some(2), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
