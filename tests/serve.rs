//! The loopback server: the embedded service over real HTTP, driven by the crate's own HTTP
//! adapter, the conformance suite, hand-written requests and the `seqcheck serve` binary.

use seqcheck::StreamService;
use seqcheck::api::*;
use seqcheck::conformance::{Area, AreaStatus, RunConfig, run_area};
use seqcheck::http::{HttpService, RawClient, WaitTarget};
use seqcheck::server::{ServeError, Server, ServerHandle};
use seqcheck::types::{ErrorKind, ShardIteratorType};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// A server over a fresh embedded service on the system clock.
fn embedded_server() -> ServerHandle {
    Server::start(Arc::new(seqcheck::MemoryStream::default()), loopback()).expect("server starts")
}

#[test]
fn a_put_and_get_round_trip_over_http() {
    let server = embedded_server();
    let client = HttpService::new(&server.url(), None).expect("adapter");
    client
        .create_stream(&CreateStreamRequest {
            stream_name: "orders".into(),
            shard_count: 2,
        })
        .expect("CreateStream");
    client
        .wait_for_status("orders", WaitTarget::Active, Duration::from_secs(10))
        .expect("ACTIVE");
    let put = client
        .put_record(&PutRecordRequest {
            stream_name: "orders".into(),
            partition_key: "customer-7".into(),
            data: bytes::Bytes::from_static(b"first order"),
            explicit_hash_key: None,
            sequence_number_for_ordering: None,
        })
        .expect("PutRecord");
    let iterator = client
        .get_shard_iterator(&GetShardIteratorRequest {
            stream_name: "orders".into(),
            shard_id: put.shard_id.to_string(),
            shard_iterator_type: ShardIteratorType::TRIM_HORIZON,
            starting_sequence_number: None,
            timestamp_ms: None,
        })
        .expect("GetShardIterator");
    let page = client
        .get_records(&GetRecordsRequest {
            shard_iterator: iterator,
            limit: None,
        })
        .expect("GetRecords");
    assert_eq!(page.records.len(), 1);
    assert_eq!(&page.records[0].data[..], b"first order");
    assert_eq!(page.records[0].sequence_number, put.sequence_number);
    assert_eq!(page.records[0].partition_key.as_ref(), "customer-7");
    // A definite service error crosses the wire typed.
    let missing = client.describe_stream_summary(&StreamRequest {
        stream_name: "no-such-stream".into(),
    });
    assert_eq!(
        missing.map_err(|e| e.kind).err(),
        Some(ErrorKind::ResourceNotFoundException)
    );
    drop(client);
    server.shutdown();
}

/// The embedded service passes the sequencing and validation areas over HTTP exactly as it
/// does in process: no expectations file, no divergence.
#[test]
fn the_served_embedded_service_passes_the_suite_over_http() {
    let server = embedded_server();
    let client: Arc<dyn StreamService> =
        Arc::new(HttpService::new(&server.url(), None).expect("adapter"));
    let factory = move || Arc::clone(&client);
    let cfg = RunConfig {
        cases: 12,
        // What `seqcheck check --endpoint` uses for a live endpoint: real clocks.
        model: seqcheck::ModelConfig {
            strict_millis_behind: false,
            clock_tolerance_ms: 2_000,
            ..seqcheck::ModelConfig::default()
        },
        name_prefix: "served".into(),
        max_shrink_ms: 20_000,
        ..RunConfig::default()
    };
    for area in [Area::Sequencing, Area::Validation] {
        let report = run_area(&factory, area, &cfg, &|| {});
        assert!(
            matches!(report.status, AreaStatus::Passed),
            "{area}: {:?}",
            report.status
        );
        assert_eq!(report.distinct_findings, 0, "{area}");
        assert!(report.divergences.is_empty(), "{area}: {:?}", report.divergences);
        assert_eq!(report.indeterminate_cases, 0, "{area}");
        println!(
            "{area}: {} cases, {} completed over HTTP",
            report.cases, report.completed_cases
        );
    }
    drop(factory);
    server.shutdown();
}

#[test]
fn only_loopback_addresses_are_served() {
    for addr in ["0.0.0.0:0", "127.0.0.2:0", "[::]:0", "192.0.2.1:0"] {
        let addr: SocketAddr = addr.parse().expect("address");
        match Server::start(Arc::new(seqcheck::MemoryStream::default()), addr) {
            Err(ServeError::NotLoopback(refused)) => assert_eq!(refused, addr),
            other => panic!("{addr}: {other:?}"),
        }
    }
}

/// An answer read off the socket.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The error type of the envelope (`__type`).
    fn error_type(&self) -> Option<String> {
        let json: serde_json::Value = serde_json::from_str(&self.body).ok()?;
        json.get("__type")?.as_str().map(str::to_owned)
    }
}

/// Sends one request with exactly `head_lines` (no Content-Length: it is added) and `body`,
/// with `Connection: close`, and reads the whole answer.
fn exchange(addr: SocketAddr, method: &str, head_lines: &[&str], body: &[u8]) -> Answer {
    let mut conn = TcpStream::connect(addr).expect("connect");
    // A safeguard against a hang, not a timed assertion.
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut request = format!("{method} / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for line in head_lines {
        request.push_str(line);
        request.push_str("\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    conn.write_all(&bytes).expect("send");
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).expect("answer");
    let text = String::from_utf8(raw).expect("answers are UTF-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_owned(),
    }
}

const JSON: &str = "Content-Type: application/x-amz-json-1.1";
const AUTH: &str = "Authorization: AWS4-HMAC-SHA256 Credential=anything, Signature=not-checked";

#[test]
fn bad_input_gets_a_kinesis_error_envelope() {
    let server = embedded_server();
    let addr = server.local_addr();
    let put = "X-Amz-Target: Kinesis_20131202.PutRecord";
    let cases: [(&str, Vec<&str>, &[u8], u16, &str); 6] = [
        ("garbage body", vec![JSON, AUTH, put], b"{not json", 400, "SerializationException"),
        (
            "non-UTF-8 body",
            vec![JSON, put],
            b"{\"StreamName\":\"\xff\xfe\"}",
            400,
            "SerializationException",
        ),
        (
            "missing target",
            vec![JSON, AUTH],
            b"{\"StreamName\":\"s\"}",
            400,
            "UnknownOperationException",
        ),
        ("missing target, empty body", vec![JSON], b"", 400, "UnknownOperationException"),
        (
            "unknown target",
            vec![JSON, "X-Amz-Target: Kinesis_20131202.Launch"],
            b"{}",
            400,
            "UnknownOperationException",
        ),
        (
            "missing required member",
            vec![JSON, put],
            b"{\"StreamName\":\"s\"}",
            400,
            "ValidationException",
        ),
    ];
    for (what, head, body, status, error) in cases {
        let answer = exchange(addr, "POST", &head, body);
        assert_eq!(answer.status, status, "{what}: {}", answer.body);
        assert_eq!(answer.error_type().as_deref(), Some(error), "{what}");
        assert_eq!(
            answer.header("content-type"),
            Some(seqcheck::wire::CONTENT_TYPE),
            "{what}"
        );
        assert!(answer.header("x-amzn-requestid").is_some(), "{what}");
    }
    // The answer to a missing target is the front end's answer to the empty target.
    let expected = seqcheck::MemoryStream::default()
        .call_raw(&RawRequest {
            target: String::new(),
            body: "{\"StreamName\":\"s\"}".into(),
        })
        .expect("in-process answer");
    let answer = exchange(addr, "POST", &[JSON], b"{\"StreamName\":\"s\"}");
    assert_eq!((answer.status, answer.body), (expected.status, expected.body));
    let get = exchange(addr, "GET", &[], b"");
    assert_eq!(get.status, 405);
    assert_eq!(get.header("allow"), Some("POST"));
    assert_eq!(get.error_type().as_deref(), Some("UnknownOperationException"));
    // Still serving after all of it.
    let raw = RawClient::new(&server.url()).expect("raw client");
    let ok = raw
        .call(
            "CreateStream",
            &serde_json::json!({"StreamName": "after", "ShardCount": 1}),
        )
        .expect("answer");
    assert!(ok.is_success(), "{ok:?}");
    server.shutdown();
}

#[test]
fn shutdown_closes_the_port_and_drop_shuts_down_too() {
    let server = embedded_server();
    let addr = server.local_addr();
    server.shutdown();
    assert!(TcpStream::connect(addr).is_err(), "port still open");
    let dropped = embedded_server();
    let addr = dropped.local_addr();
    drop(dropped);
    assert!(TcpStream::connect(addr).is_err(), "port still open after drop");
}

/// Runs `seqcheck serve ARGS`, reads the line naming the port, and returns the child and URL.
fn spawn_cli(args: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_seqcheck"))
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("seqcheck serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("a line");
    let url = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    (child, url)
}

/// Sends SIGTERM to the child this test started, by its pid, and returns its exit status.
fn terminate(mut child: std::process::Child) -> std::process::ExitStatus {
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    child.wait().expect("child exits")
}

#[test]
fn the_cli_serves_both_targets_until_sigterm() {
    for args in [&["--port", "0"][..], &["--port", "0", "--model"][..]] {
        let (child, url) = spawn_cli(args);
        let client = HttpService::new(&url, None).expect("adapter");
        client
            .create_stream(&CreateStreamRequest {
                stream_name: "cli".into(),
                shard_count: 1,
            })
            .unwrap_or_else(|e| panic!("{args:?}: CreateStream: {e}"));
        let summary = client
            .describe_stream_summary(&StreamRequest {
                stream_name: "cli".into(),
            })
            .unwrap_or_else(|e| panic!("{args:?}: DescribeStreamSummary: {e}"));
        assert_eq!(summary.open_shard_count, 1, "{args:?}");
        drop(client);
        let status = terminate(child);
        assert!(status.success(), "{args:?}: {status:?}");
    }
}

#[test]
fn the_cli_refuses_a_non_loopback_bind() {
    let out = Command::new(env!("CARGO_BIN_EXE_seqcheck"))
        .args(["serve", "--port", "0", "--bind", "0.0.0.0"])
        .output()
        .expect("seqcheck runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("only 127.0.0.1 and ::1"), "{stderr}");
    assert!(out.stdout.is_empty());
}
