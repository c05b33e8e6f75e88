//! A realistic workload: a clickstream of user events keyed by user id.

use bytes::Bytes;

/// Event types of the clickstream.
pub const EVENT_TYPES: [&str; 5] = ["page_view", "click", "add_to_cart", "checkout", "search"];

/// One clickstream event as JSON: `{"userId", "eventType", "timestamp", "eventId"}`. The user
/// id is the partition key, so one user's events stay in order within a shard.
pub fn click_event(user_id: &str, event: u8, event_id: u64, timestamp_ms: u64) -> Bytes {
    let event = serde_json::json!({
        "userId": user_id,
        "eventType": EVENT_TYPES[usize::from(event) % EVENT_TYPES.len()],
        "timestamp": timestamp_ms,
        "eventId": event_id,
    });
    Bytes::from(event.to_string())
}

/// A deterministic clickstream of `n` events over `users` users (for benches and examples):
/// `(partition key, payload)` pairs.
pub fn clickstream(n: usize, users: usize, start_ms: u64) -> Vec<(String, Bytes)> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    (0..n)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let user = format!("user-{}", state % users.max(1) as u64);
            let payload = click_event(&user, (state >> 32) as u8, i as u64, start_ms + i as u64);
            (user, payload)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_json_with_the_user_as_key() {
        let events = clickstream(10, 3, 1_700_000_000_000);
        assert_eq!(events.len(), 10);
        for (user, payload) in events {
            let v: serde_json::Value = serde_json::from_slice(&payload).unwrap();
            assert_eq!(v["userId"], user.as_str());
            assert!(EVENT_TYPES.contains(&v["eventType"].as_str().unwrap()));
        }
    }
}
