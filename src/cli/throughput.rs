//! `seqcheck throughput`: the same clickstream workload through the trait against the embedded
//! service and any endpoints, reported side by side.

use super::CliError;
use seqcheck::api::{
    CreateStreamRequest, GetRecordsRequest, GetShardIteratorRequest, ListShardsRequest,
    PutRecordRequest, StreamRequest,
};
use seqcheck::conformance::workload::clickstream;
use seqcheck::http::{HttpService, WaitTarget, wait_for_status};
use seqcheck::service::StreamService;
use seqcheck::types::ShardIteratorType;
use std::time::{Duration, Instant};

/// Rates measured on one implementation.
struct Rates {
    name: String,
    puts_per_sec: f64,
    records_read_per_sec: f64,
    requests_per_sec: f64,
}

fn measure(name: &str, service: &dyn StreamService, events: usize) -> Result<Rates, CliError> {
    let fail = |what: &str, e: seqcheck::types::KinesisError| {
        CliError::Setup(format!("{name}: {what}: {e}"))
    };
    let stream = format!("throughput-{}", std::process::id());
    service
        .create_stream(&CreateStreamRequest {
            stream_name: stream.clone(),
            shard_count: 2,
        })
        .map_err(|e| fail("CreateStream", e))?;
    wait_for_status(
        service,
        &stream,
        WaitTarget::Active,
        Duration::from_secs(30),
    )
    .map_err(|e| CliError::Setup(format!("{name}: {e}")))?;
    let workload = clickstream(events, 50, service.now_ms());
    let start = Instant::now();
    for (key, data) in &workload {
        service
            .put_record(&PutRecordRequest {
                stream_name: stream.clone(),
                partition_key: key.clone(),
                data: data.clone(),
                explicit_hash_key: None,
                sequence_number_for_ordering: None,
            })
            .map_err(|e| fail("PutRecord", e))?;
    }
    let put_secs = start.elapsed().as_secs_f64();
    let shards = service
        .list_shards(&ListShardsRequest {
            stream_name: Some(stream.clone()),
            ..Default::default()
        })
        .map_err(|e| fail("ListShards", e))?;
    let start = Instant::now();
    let (mut read, mut requests) = (0usize, 0usize);
    for shard in &shards.shards {
        let mut it = service
            .get_shard_iterator(&GetShardIteratorRequest {
                stream_name: stream.clone(),
                shard_id: shard.shard_id.to_string(),
                shard_iterator_type: ShardIteratorType::TRIM_HORIZON,
                starting_sequence_number: None,
                timestamp_ms: None,
            })
            .map_err(|e| fail("GetShardIterator", e))?;
        loop {
            let page = service
                .get_records(&GetRecordsRequest {
                    shard_iterator: it,
                    limit: Some(100),
                })
                .map_err(|e| fail("GetRecords", e))?;
            requests += 1;
            read += page.records.len();
            match page.next_shard_iterator {
                Some(next) if !page.records.is_empty() => it = next,
                _ => break,
            }
        }
    }
    let read_secs = start.elapsed().as_secs_f64();
    let _ = service.delete_stream(&StreamRequest {
        stream_name: stream,
    });
    Ok(Rates {
        name: name.to_owned(),
        puts_per_sec: events as f64 / put_secs,
        records_read_per_sec: read as f64 / read_secs,
        requests_per_sec: (events + requests) as f64 / (put_secs + read_secs),
    })
}

/// Runs the workload on the embedded service and each `name=url` endpoint and prints a table.
pub fn run(endpoints: &[String], events: usize) -> Result<(), CliError> {
    let mut rows = vec![measure(
        "embedded (in process)",
        &seqcheck::MemoryStream::default(),
        events,
    )?];
    for spec in endpoints {
        let (name, url) = spec
            .split_once('=')
            .unwrap_or((spec.as_str(), spec.as_str()));
        let service = HttpService::new(url, None).map_err(|e| CliError::Setup(e.to_string()))?;
        rows.push(measure(name, &service, events)?);
    }
    println!(
        "\nclickstream workload: {events} PutRecord calls (50 users, 2 shards), then every shard read back in pages of 100"
    );
    println!(
        "{:<24} {:>14} {:>18} {:>16}",
        "implementation", "PutRecord/s", "records read/s", "requests/s"
    );
    for r in rows {
        println!(
            "{:<24} {:>14.0} {:>18.0} {:>16.0}",
            r.name, r.puts_per_sec, r.records_read_per_sec, r.requests_per_sec
        );
    }
    Ok(())
}
