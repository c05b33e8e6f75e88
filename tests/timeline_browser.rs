//! The history timeline in a real browser: Debian's headless chromium opens the page from a
//! file, runs its script, and the test reads the DOM it ends with and a screenshot.
//!
//! Needs `/usr/bin/chromium` (`apt-get install -y chromium`), so it is ignored by default; run it
//! with `cargo test --test timeline_browser -- --ignored`. Set `SEQCHECK_TIMELINE_KEEP` to a
//! folder to keep the page and its screenshot there.

use seqcheck::history::{
    Anomaly, AnomalyClass, ClassCount, Coverage, EventRef, LagSummary, Report, TimelineOptions,
    UnknownOutcomes, Verdict, load_events, write_timeline,
};
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
/// How long one browser run may take before it is killed (a bound, not an assertion).
const BROWSER_LIMIT: Duration = Duration::from_secs(120);
/// The page's anomaly outline (`--anom`, used for nothing else but its legend swatch) and
/// service-down shading (`--down`).
const ANOMALY_RGB: [u8; 3] = [0xe8, 0x17, 0x5d];
const CRASH_RGB: [u8; 3] = [0xfb, 0xe1, 0xdc];

/// A fresh folder, removed with everything in it when dropped (also when the test fails).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "seqcheck-timeline-browser-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A report with one lost write: the put of `k1` (lines 3 and 5) and the final read that
/// should have returned it (line 35) of `tests/data/timeline-lost-write.jsonl`.
fn lost_write_report() -> Report {
    let at = |line| EventRef { file: 0, line };
    Report {
        files: vec!["tests/data/timeline-lost-write.jsonl".into()],
        verdict: Verdict::Invalid,
        classes: vec![ClassCount {
            class: AnomalyClass::LostWrite,
            count: 1,
            examples: vec![Anomaly {
                class: AnomalyClass::LostWrite,
                shard: Some("shardId-000000000000".into()),
                detail: "k1 (producer-0.1.a1) acknowledged at …580001, not returned by the final read of shardId-000000000000".into(),
                events: vec![at(3), at(5), at(35)],
            }],
        }],
        coverage: Coverage {
            events: 38,
            puts: 6,
            put_attempts: 6,
            acknowledged: 3,
            records_read: 2,
            reads: 2,
            shards: 1,
            processed: 1,
            checkpoints: 1,
            kills: 1,
            consumer_kills: 1,
            net_faults: 1,
        },
        unknown_outcomes: UnknownOutcomes::default(),
        lag: LagSummary::default(),
    }
}

/// Runs chromium headless on `url` with `extra` flags in its own process group, with a fresh
/// profile in `dir`; returns what it printed. Killed (its group, by its id) after
/// [`BROWSER_LIMIT`].
fn chromium(dir: &Path, name: &str, extra: &[String], url: &str) -> String {
    let profile = dir.join(format!("profile-{name}"));
    let out_path = dir.join(format!("{name}.out"));
    let err_path = dir.join(format!("{name}.err"));
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1400,900",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).expect("stdout file"))
        .stderr(File::create(&err_path).expect("stderr file"))
        .process_group(0)
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + BROWSER_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll chromium") {
            break status;
        }
        if Instant::now() > deadline {
            // The group is the one this test made for the browser: its id is the child's.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            panic!(
                "chromium ({name}) did not finish within {BROWSER_LIMIT:?}; stderr:\n{}",
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        status.success(),
        "chromium ({name}) failed with {status}; stderr:\n{}",
        std::fs::read_to_string(&err_path).unwrap_or_default()
    );
    std::fs::read_to_string(&out_path).expect("read chromium's output")
}

/// Pixels of a PNG that lie within 8 of `rgb` in every channel.
fn pixels_near(png_path: &Path, rgb: [u8; 3]) -> usize {
    let mut decoder = png::Decoder::new(std::io::BufReader::new(
        File::open(png_path).expect("open screenshot"),
    ));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    let channels = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected screenshot colour type {other:?}"),
    };
    buf[..info.buffer_size()]
        .chunks_exact(channels)
        .filter(|p| (0..3).all(|c| p[c].abs_diff(rgb[c]) <= 8))
        .count()
}

/// The `width: N%` the script gave the canvas.
fn canvas_width_percent(dom: &str) -> Option<f64> {
    let tag = opening_tag(dom, "id=\"canvas\"")?;
    let rest = &tag[tag.find("width:")? + 6..];
    rest[..rest.find('%')?].trim().parse().ok()
}

/// The whole opening tag that contains `needle`.
fn opening_tag<'a>(dom: &'a str, needle: &str) -> Option<&'a str> {
    let at = dom.find(needle)?;
    let start = dom[..at].rfind('<')?;
    let end = at + dom[at..].find('>')?;
    Some(&dom[start..=end])
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
#[ignore = "needs Debian's chromium (apt-get install chromium); run with --ignored"]
fn the_timeline_renders_lanes_highlights_and_shading_in_chromium() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: apt-get install -y chromium"
    );
    let dir = TempDir::new();
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/timeline-lost-write.jsonl");
    let events = load_events(&[&fixture]).expect("fixture loads");
    let html = dir.0.join("timeline.html");
    write_timeline(
        &html,
        &events,
        &lost_write_report(),
        &TimelineOptions::default(),
    )
    .expect("write the page");
    let url = format!("file://{}", html.display());

    // (a) The DOM once the page's script ran.
    let dom = chromium(&dir.0, "dom", &["--dump-dom".to_owned()], &url);
    assert!(
        dom.contains("data-timeline-ready=\"true\""),
        "the page's script ran to its end"
    );
    assert!(
        dom.contains("class=\"tick\""),
        "the script drew the time axis"
    );
    for process in [
        "producer-0",
        "producer-1",
        "consumer-0",
        "final-reader",
        "nemesis",
    ] {
        assert_eq!(
            count(&dom, &format!("data-process=\"{process}\"")),
            1,
            "one lane for {process}"
        );
    }
    assert_eq!(
        count(&dom, "class=\"lane\""),
        5,
        "a lane per process, no more"
    );
    assert_eq!(
        count(&dom, "data-anomaly=\"lost-write\""),
        2,
        "the put and the read of the lost write"
    );
    assert_eq!(count(&dom, "data-region=\"service-down\""), 1);
    assert_eq!(count(&dom, "data-region=\"net-fault\""), 1);
    assert_eq!(count(&dom, "data-region=\"consumer-down\""), 1);
    assert!(!dom.contains("<script>alert(1)"), "the payload stayed data");

    // An anomaly link's target, opened directly, zooms in on its operation and flashes it.
    let focused = chromium(
        &dir.0,
        "focus",
        &["--dump-dom".to_owned()],
        &format!("{url}#ev-0-35"),
    );
    let zoom = canvas_width_percent(&focused).expect("the canvas has a width once zoomed");
    assert!(zoom > 100.0, "zoomed in ({zoom}%)");
    let read = opening_tag(&focused, "id=\"ev-0-34\"").expect("the final read is drawn");
    assert!(
        read.contains("flash") && read.contains("data-anomaly=\"lost-write\""),
        "{read}"
    );

    // (b) The screenshot shows the highlight and the crash shading.
    let png_path = dir.0.join("timeline.png");
    chromium(
        &dir.0,
        "shot",
        &[format!("--screenshot={}", png_path.display())],
        &url,
    );
    assert!(png_path.exists(), "chromium wrote the screenshot");
    if let Some(keep) = std::env::var_os("SEQCHECK_TIMELINE_KEEP") {
        let keep = PathBuf::from(keep);
        std::fs::create_dir_all(&keep).expect("keep folder");
        std::fs::copy(&html, keep.join("timeline.html")).expect("keep the page");
        std::fs::copy(&png_path, keep.join("timeline.png")).expect("keep the screenshot");
    }
    let anomaly = pixels_near(&png_path, ANOMALY_RGB);
    let crash = pixels_near(&png_path, CRASH_RGB);
    eprintln!("screenshot: {anomaly} anomaly-coloured pixels, {crash} crash-coloured pixels");
    // The legend's swatches alone have about 90 and 200 such pixels, the outlines of the two
    // highlighted operations about 300 each, the shading tens of thousands.
    assert!(
        anomaly >= 300,
        "anomaly highlight visible ({anomaly} pixels)"
    );
    assert!(
        crash >= 5000,
        "service-down shading visible ({crash} pixels)"
    );
}
