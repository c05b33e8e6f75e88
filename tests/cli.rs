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
