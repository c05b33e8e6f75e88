//! The fault proxy between the crate's HTTP adapter and the loopback server over the embedded
//! service: each fault produces the outcome it promises, and the service's state shows whether
//! a request was applied.

use seqcheck::StreamService;
use seqcheck::api::*;
use seqcheck::http::{HttpOptions, HttpService};
use seqcheck::nemesis::{FaultProxy, NetFault};
use seqcheck::server::{Server, ServerHandle};
use seqcheck::types::{KinesisError, ShardIteratorType};
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// A server, a proxy in front of it, and a client with short timeouts through the proxy.
struct Rig {
    client: HttpService,
    proxy: FaultProxy,
    server: ServerHandle,
}

impl Rig {
    fn new() -> Rig {
        let server = Server::start(
            Arc::new(seqcheck::MemoryStream::default()),
            SocketAddr::from(([127, 0, 0, 1], 0)),
        )
        .expect("server");
        let proxy = FaultProxy::start(server.local_addr()).expect("proxy");
        let options = HttpOptions {
            connect_timeout: Duration::from_secs(1),
            operation_timeout: Duration::from_secs(2),
        };
        let client = HttpService::with_options(&proxy.url(), None, options).expect("adapter");
        client
            .create_stream(&CreateStreamRequest {
                stream_name: STREAM.into(),
                shard_count: 1,
            })
            .expect("CreateStream through the healthy proxy");
        Rig {
            client,
            proxy,
            server,
        }
    }

    fn put(&self, data: &'static [u8]) -> Result<PutRecordResponse, KinesisError> {
        self.client.put_record(&PutRecordRequest {
            stream_name: STREAM.into(),
            partition_key: "k".into(),
            data: bytes::Bytes::from_static(data),
            explicit_hash_key: None,
            sequence_number_for_ordering: None,
        })
    }

    /// Every record's data in the stream's only shard, read through the proxy.
    fn contents(&self) -> Vec<Vec<u8>> {
        let shards = self
            .client
            .list_shards(&ListShardsRequest {
                stream_name: Some(STREAM.into()),
                ..ListShardsRequest::default()
            })
            .expect("ListShards");
        assert_eq!(shards.shards.len(), 1);
        let mut iterator = self
            .client
            .get_shard_iterator(&GetShardIteratorRequest {
                stream_name: STREAM.into(),
                shard_id: shards.shards[0].shard_id.to_string(),
                shard_iterator_type: ShardIteratorType::TRIM_HORIZON,
                starting_sequence_number: None,
                timestamp_ms: None,
            })
            .expect("GetShardIterator");
        let mut data = Vec::new();
        // The embedded service answers with every record up to the tip, then an empty page.
        for _ in 0..10 {
            let page = self
                .client
                .get_records(&GetRecordsRequest {
                    shard_iterator: iterator.clone(),
                    limit: None,
                })
                .expect("GetRecords");
            if page.records.is_empty() {
                return data;
            }
            data.extend(page.records.iter().map(|r| r.data.to_vec()));
            iterator = page.next_shard_iterator.expect("an open shard goes on");
        }
        panic!("the shard did not reach its tip in 10 pages");
    }

    fn finish(self) {
        let Rig {
            client,
            proxy,
            server,
        } = self;
        drop(client);
        proxy.stop();
        server.shutdown();
    }
}

const STREAM: &str = "faulty";

fn assert_unknown(outcome: Result<PutRecordResponse, KinesisError>, what: &str) {
    match outcome {
        Err(e) => assert!(e.kind.is_unknown_outcome(), "{what}: {e}"),
        Ok(put) => panic!("{what}: the put was acknowledged: {put:?}"),
    }
}

#[test]
fn a_healthy_proxy_passes_requests_both_ways() {
    let rig = Rig::new();
    rig.put(b"one").expect("PutRecord");
    rig.put(b"two").expect("PutRecord");
    assert_eq!(rig.contents(), vec![b"one".to_vec(), b"two".to_vec()]);
    let stats = rig.proxy.stats();
    assert!(stats.accepted >= 1, "{stats:?}");
    assert!(stats.bytes_to_upstream > 0 && stats.bytes_to_client > 0, "{stats:?}");
    assert_eq!(stats.resets_after_request + stats.resets_before_request, 0);
    rig.finish();
}

#[test]
fn a_reset_after_the_request_loses_the_answer_not_the_record() {
    let rig = Rig::new();
    rig.put(b"before").expect("PutRecord");
    // The adapter's keep-alive connection is open: the fault applies to it.
    rig.proxy.set_fault(NetFault::ResetAfterRequest);
    assert_unknown(rig.put(b"applied, answer lost"), "ResetAfterRequest");
    assert!(rig.proxy.stats().resets_after_request >= 1);
    rig.proxy.set_fault(NetFault::Healthy);
    assert_eq!(
        rig.contents(),
        vec![b"before".to_vec(), b"applied, answer lost".to_vec()]
    );
    rig.finish();
}

#[test]
fn a_reset_before_the_request_loses_the_request() {
    let rig = Rig::new();
    rig.put(b"before").expect("PutRecord");
    rig.proxy.set_fault(NetFault::ResetBeforeRequest);
    assert_unknown(rig.put(b"never applied"), "ResetBeforeRequest");
    let stats = rig.proxy.stats();
    assert!(stats.resets_before_request >= 1, "{stats:?}");
    rig.proxy.set_fault(NetFault::Healthy);
    rig.put(b"after").expect("PutRecord after healing");
    assert_eq!(rig.contents(), vec![b"before".to_vec(), b"after".to_vec()]);
    rig.finish();
}

#[test]
fn a_stall_times_the_client_out_and_healing_restores_service() {
    let rig = Rig::new();
    rig.put(b"before").expect("PutRecord");
    rig.proxy.set_fault(NetFault::Stall);
    assert_unknown(rig.put(b"stalled"), "Stall");
    rig.proxy.set_fault(NetFault::Healthy);
    rig.put(b"after").expect("PutRecord after healing");
    // The stalled put's outcome is unknown: it may have been applied when the stall ended.
    let contents = rig.contents();
    assert_eq!(contents.first().map(Vec::as_slice), Some(&b"before"[..]));
    assert_eq!(contents.last().map(Vec::as_slice), Some(&b"after"[..]));
    rig.finish();
}

#[test]
fn a_delay_slows_requests_without_failing_them() {
    let rig = Rig::new();
    rig.proxy.set_fault(NetFault::Delay { ms: 30 });
    rig.put(b"slow one").expect("PutRecord under delay");
    rig.put(b"slow two").expect("PutRecord under delay");
    assert_eq!(
        rig.contents(),
        vec![b"slow one".to_vec(), b"slow two".to_vec()]
    );
    assert_eq!(rig.proxy.fault(), NetFault::Delay { ms: 30 });
    rig.finish();
}

#[test]
fn stopping_closes_open_connections_and_the_listener() {
    let rig = Rig::new();
    let addr = rig.proxy.local_addr();
    let mut open = TcpStream::connect(addr).expect("connect");
    // A safeguard against a hang, not a timed assertion.
    open.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let Rig {
        client,
        proxy,
        server,
    } = rig;
    drop(client);
    proxy.stop();
    let mut buf = [0u8; 16];
    // Closed by the proxy: end of stream or a reset, never a timeout.
    match open.read(&mut buf) {
        Ok(0) => {}
        Ok(n) => panic!("{n} unexpected bytes"),
        Err(e) => assert!(
            !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "{e}"
        ),
    }
    assert!(TcpStream::connect(addr).is_err(), "listener still open");
    server.shutdown();
}

#[test]
fn faults_serialise_for_histories() {
    for fault in [
        NetFault::Healthy,
        NetFault::Delay { ms: 5 },
        NetFault::Stall,
        NetFault::ResetAfterRequest,
        NetFault::ResetBeforeRequest,
    ] {
        let json = serde_json::to_string(&fault).expect("serialise");
        let back: NetFault = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, fault, "{json}");
    }
    assert_eq!(
        serde_json::to_string(&NetFault::Delay { ms: 5 }).expect("serialise"),
        r#"{"Delay":{"ms":5}}"#
    );
}
