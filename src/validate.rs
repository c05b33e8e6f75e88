//! Stateless request-shape checks shared by every in-process implementation. A failure here
//! is the `ValidationException` the service front end answers with before looking at state.

use crate::model::{MAX_DATA_BYTES, MAX_GET_RECORDS_LIMIT, MAX_PUT_RECORDS_ENTRIES};
use crate::types::{KinesisError, PartitionKey, is_canonical_decimal};

/// Checks one record's shape: key length, data size, explicit hash key syntax. `path` prefixes
/// field names in messages (e.g. `records.3.member.`).
pub fn record_shape(
    partition_key: &str,
    data_len: usize,
    explicit_hash_key: Option<&str>,
    path: &str,
) -> Result<PartitionKey, KinesisError> {
    let key = PartitionKey::parse(partition_key, &format!("{path}partitionKey"))?;
    if data_len > MAX_DATA_BYTES {
        return Err(KinesisError::validation(
            format!("java.nio.HeapByteBuffer[pos=0 lim={data_len} cap={data_len}]"),
            &format!("{path}data"),
            "Member must have length less than or equal to 1048576",
        ));
    }
    if let Some(ehk) = explicit_hash_key {
        hash_key_shape(ehk, &format!("{path}explicitHashKey"))?;
    }
    Ok(key)
}

/// Checks the `HashKey` pattern `0|([1-9]\d{0,38})` (the value range is checked later).
pub fn hash_key_shape(raw: &str, path: &str) -> Result<(), KinesisError> {
    if is_canonical_decimal(raw, 39) {
        Ok(())
    } else {
        Err(KinesisError::validation(
            raw,
            path,
            "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})",
        ))
    }
}

/// Checks a PutRecords entry count (1..=500).
pub fn batch_size(entries: usize) -> Result<(), KinesisError> {
    if entries == 0 || entries > MAX_PUT_RECORDS_ENTRIES {
        let constraint = if entries == 0 {
            "Member must have length greater than or equal to 1"
        } else {
            "Member must have length less than or equal to 500"
        };
        return Err(KinesisError::validation(
            format!("[{entries} entries]"),
            "records",
            constraint,
        ));
    }
    Ok(())
}

/// Checks a GetRecords `Limit` (1..=10000, default 10000).
pub fn get_records_limit(limit: Option<i64>) -> Result<usize, KinesisError> {
    match limit {
        None => Ok(MAX_GET_RECORDS_LIMIT as usize),
        Some(l) if (1..=MAX_GET_RECORDS_LIMIT).contains(&l) => Ok(l as usize),
        Some(l) => Err(KinesisError::validation(
            l,
            "limit",
            if l < 1 {
                "Member must have value greater than or equal to 1"
            } else {
                "Member must have value less than or equal to 10000"
            },
        )),
    }
}

/// Checks a shard iterator's length (1..=512).
pub fn iterator_shape(token: &str) -> Result<(), KinesisError> {
    if token.is_empty() || token.len() > 512 {
        return Err(KinesisError::validation(
            token,
            "shardIterator",
            "Member must have length between 1 and 512",
        ));
    }
    Ok(())
}

/// Largest ListShards page (kinesis-semantics §6.6, §11.19).
pub const LIST_SHARDS_PAGE: usize = 1000;

/// Checks a ListShards `MaxResults` (1..=10000) and returns the effective page size
/// (at most [`LIST_SHARDS_PAGE`]).
pub fn list_shards_page(max_results: Option<i64>) -> Result<usize, KinesisError> {
    match max_results {
        None => Ok(LIST_SHARDS_PAGE),
        Some(m) if (1..=10_000).contains(&m) => Ok((m as usize).min(LIST_SHARDS_PAGE)),
        Some(m) => Err(KinesisError::validation(
            m,
            "maxResults",
            "Member must have value between 1 and 10000",
        )),
    }
}

/// Checks a CreateStream request's shape: the stream name and `ShardCount >= 1`.
pub fn create_stream_shape(stream_name: &str, shard_count: i64) -> Result<(), KinesisError> {
    crate::types::StreamName::parse(stream_name)?;
    if shard_count < 1 {
        return Err(KinesisError::validation(
            shard_count,
            "shardCount",
            "Member must have value greater than or equal to 1",
        ));
    }
    Ok(())
}
