//! Failing cases saved as the seeds that generate them, so a found bug stays found: they are
//! re-run before any new case. The file format is proptest's (`cc <64 hex digits> # note`),
//! one ChaCha seed per line.

use proptest::test_runner::{RngAlgorithm, TestRng};
use std::io::Write as _;
use std::path::Path;

/// The seed of one generated case.
pub type CaseSeed = [u8; 32];

/// The generator of the case with this seed.
pub fn rng(seed: &CaseSeed) -> TestRng {
    TestRng::from_seed(RngAlgorithm::ChaCha, seed)
}

/// The seeds saved in `path` (none when it does not exist; unreadable lines are skipped).
pub fn load(path: &Path) -> Vec<CaseSeed> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("cc "))
        .filter_map(|rest| parse_hex(rest.split_whitespace().next()?))
        .collect()
}

/// Appends `seed` with a one-line `note` to `path` unless it is there already. Failing to
/// write is reported, never fatal: the finding itself is in the report either way.
pub fn save(path: &Path, seed: &CaseSeed, note: &str) -> std::io::Result<()> {
    if load(path).contains(seed) {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let fresh = !path.exists();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    if fresh {
        writeln!(
            file,
            "# Seeds of failing conformance cases; re-run before new cases. Keep this file in \
             version control."
        )?;
    }
    let hex: String = seed.iter().map(|b| format!("{b:02x}")).collect();
    let note: String = note.split_whitespace().collect::<Vec<_>>().join(" ");
    writeln!(file, "cc {hex} # {note}")
}

fn parse_hex(hex: &str) -> Option<CaseSeed> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut seed = [0u8; 32];
    for (i, byte) in seed.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_seeds_load_back_once() {
        let dir = std::env::temp_dir().join(format!("seqcheck-regr-{}", std::process::id()));
        let path = dir.join("area.txt");
        let _ = std::fs::remove_file(&path);
        let seed = [7u8; 32];
        save(&path, &seed, "first\nnote").expect("write");
        save(&path, &seed, "again").expect("write");
        assert_eq!(load(&path), vec![seed]);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn malformed_lines_are_skipped() {
        assert_eq!(parse_hex("zz"), None);
        assert_eq!(parse_hex(&"g".repeat(64)), None);
        assert_eq!(parse_hex(&"ab".repeat(32)), Some([0xab; 32]));
    }
}
