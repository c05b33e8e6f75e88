//! How a sequence number's integer packs its fields, in the two supported formats.
//!
//! Both formats order numbers by `(epoch, shard index, counter)` (AWS: `(creation time, low
//! digit of shard index, counter, record time, shard index)`), which is what makes per-shard
//! order follow the counter and every child shard's numbers exceed its parents'.

use crate::types::{MAX_SHARD_INDEX, SeqInt, SequenceNumber};

/// The largest counter value; Kinesis reserves it for a closed shard's `EndingSequenceNumber`.
pub const MAX_COUNTER: u64 = i64::MAX as u64;

/// The largest epoch the AWS layout can hold (36 bits of Unix seconds).
pub const MAX_AWS_EPOCH: u64 = (1 << 36) - 1;

/// Which textual shape sequence numbers take.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum SeqFormat {
    /// Decimal fields you can read by eye: `epoch · 10^29 + shard · 10^19 + counter`.
    /// The epoch is a per-stream generation (1 for the shards a stream is created with).
    #[default]
    Readable,
    /// The 56-digit layout decoded from real AWS numbers (kinesis-semantics §1.7): version 2,
    /// epoch = shard creation time in Unix seconds, record time in Unix seconds.
    AwsV2,
}

/// The decoded fields of a sequence number minted by a [`SeqFormat`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SeqFields {
    /// Shard generation (`Readable`) or shard creation second (`AwsV2`); children exceed parents.
    pub epoch: u64,
    /// The shard's index (`shardId-<index>`).
    pub shard_index: u32,
    /// Position in the shard: 0 = start number, [`MAX_COUNTER`] = end number.
    pub counter: u64,
    /// Second the record was minted (`AwsV2` only; `Readable` decodes it as 0).
    pub record_secs: u64,
}

/// `10^10`: the width of the shard field in the readable layout.
const TEN_POW_10: SeqInt = ruint::uint!(10000000000_U448);
/// `10^19`: the width of the counter field in the readable layout.
const TEN_POW_19: SeqInt = ruint::uint!(10000000000000000000_U448);

fn pow10(exp: usize) -> SeqInt {
    match exp {
        10 => TEN_POW_10,
        19 => TEN_POW_19,
        _ => SeqInt::from(10u8).pow(SeqInt::from(exp)),
    }
}

impl SeqFormat {
    /// Packs `fields` into a sequence number. Fields out of range are a caller bug.
    pub fn encode(self, fields: SeqFields) -> SequenceNumber {
        debug_assert!(fields.counter <= MAX_COUNTER);
        debug_assert!(fields.shard_index <= MAX_SHARD_INDEX);
        match self {
            SeqFormat::Readable => {
                let v = (SeqInt::from(fields.epoch) * pow10(10) + SeqInt::from(fields.shard_index))
                    * pow10(19)
                    + SeqInt::from(fields.counter);
                SequenceNumber::from_int(v)
            }
            SeqFormat::AwsV2 => {
                debug_assert!(fields.epoch <= MAX_AWS_EPOCH);
                let secs = |s: u64| SeqInt::from(s & MAX_AWS_EPOCH);
                let v = (SeqInt::from(2u8) << 184)
                    | (secs(fields.epoch) << 148)
                    | (SeqInt::from(fields.shard_index & 0xf) << 144)
                    | (SeqInt::from(fields.counter) << 80)
                    | (secs(fields.record_secs) << 36)
                    | (SeqInt::from(fields.shard_index) << 4)
                    | SeqInt::from(2u8);
                SequenceNumber::from_int(v)
            }
        }
    }

    /// Unpacks a number this format could have minted; `None` when it could not have.
    pub fn decode(self, seq: &SequenceNumber) -> Option<SeqFields> {
        let v = seq.as_int();
        match self {
            SeqFormat::Readable => {
                let counter_div = pow10(19);
                let counter = u64::try_from(v % counter_div).ok()?;
                let rest = v / counter_div;
                let shard = u64::try_from(rest % pow10(10)).ok()?;
                let epoch = u64::try_from(rest / pow10(10)).ok()?;
                (counter <= MAX_COUNTER && shard <= u64::from(MAX_SHARD_INDEX) && epoch >= 1)
                    .then_some(SeqFields {
                        epoch,
                        shard_index: shard as u32,
                        counter,
                        record_secs: 0,
                    })
            }
            SeqFormat::AwsV2 => {
                let field = |shift: usize, bits: usize| -> u64 {
                    let mask = (SeqInt::from(1u8) << bits) - SeqInt::from(1u8);
                    u64::try_from((v >> shift) & mask).unwrap_or(u64::MAX)
                };
                if v >> 188 != SeqInt::ZERO || field(184, 4) != 2 || field(0, 4) != 2 {
                    return None;
                }
                let shard_index = field(4, 32);
                let counter = field(80, 64);
                let fields = SeqFields {
                    epoch: field(148, 36),
                    shard_index: u32::try_from(shard_index).ok()?,
                    counter,
                    record_secs: field(36, 36),
                };
                let consistent = field(144, 4) == shard_index & 0xf
                    && field(72, 8) == 0
                    && counter <= MAX_COUNTER
                    && shard_index <= u64::from(MAX_SHARD_INDEX);
                consistent.then_some(fields)
            }
        }
    }

    /// The epoch of a shard created at `now_secs` whose parents have epochs `parent_epochs`:
    /// strictly above every parent, so all of the child's numbers exceed theirs.
    pub fn child_epoch(self, now_secs: u64, parent_epochs: impl IntoIterator<Item = u64>) -> u64 {
        let floor = parent_epochs.into_iter().max().map_or(1, |e| e + 1);
        match self {
            SeqFormat::Readable => floor,
            SeqFormat::AwsV2 => floor.max(now_secs).min(MAX_AWS_EPOCH),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quickcheck::{Arbitrary, Gen, quickcheck};

    #[derive(Clone, Debug)]
    struct AnyFields(SeqFormat, SeqFields);

    impl Arbitrary for AnyFields {
        fn arbitrary(g: &mut Gen) -> Self {
            let format = *g
                .choose(&[SeqFormat::Readable, SeqFormat::AwsV2])
                .unwrap_or(&SeqFormat::Readable);
            let epoch = match format {
                SeqFormat::Readable => u64::arbitrary(g) % 1_000_000 + 1,
                SeqFormat::AwsV2 => u64::arbitrary(g) & MAX_AWS_EPOCH,
            };
            let record_secs = match format {
                SeqFormat::Readable => 0,
                SeqFormat::AwsV2 => u64::arbitrary(g) & MAX_AWS_EPOCH,
            };
            AnyFields(
                format,
                SeqFields {
                    epoch,
                    shard_index: u32::arbitrary(g) & MAX_SHARD_INDEX,
                    counter: u64::arbitrary(g) & MAX_COUNTER,
                    record_secs,
                },
            )
        }
    }

    quickcheck! {
        fn decode_inverts_encode(f: AnyFields) -> bool {
            f.0.decode(&f.0.encode(f.1)) == Some(f.1)
        }

        fn counter_order_is_number_order_within_a_shard(f: AnyFields, c1: u64, c2: u64) -> bool {
            let (c1, c2) = (c1 & MAX_COUNTER, c2 & MAX_COUNTER);
            let a = f.0.encode(SeqFields { counter: c1, ..f.1 });
            let b = f.0.encode(SeqFields { counter: c2, ..f.1 });
            (c1 < c2) == (a < b)
        }

        fn a_later_epoch_exceeds_every_number_of_an_earlier_one(f: AnyFields, g: AnyFields) -> bool {
            // Same format; epochs ordered; any shard/counter/record time on either side.
            let (lo, hi) = (f.1.epoch.min(g.1.epoch), f.1.epoch.max(g.1.epoch));
            if lo == hi { return true; }
            let a = f.0.encode(SeqFields { epoch: lo, counter: MAX_COUNTER, ..f.1 });
            let b = f.0.encode(SeqFields { epoch: hi, counter: 0, record_secs: 0, shard_index: g.1.shard_index, });
            a < b
        }

        fn distinct_shards_never_share_numbers(f: AnyFields, other_shard: u32) -> bool {
            let other_shard = other_shard & MAX_SHARD_INDEX;
            other_shard == f.1.shard_index
                || f.0.encode(f.1) != f.0.encode(SeqFields { shard_index: other_shard, ..f.1 })
        }

        fn aws_numbers_have_56_digits(f: AnyFields) -> bool {
            f.0 != SeqFormat::AwsV2 || f.0.encode(f.1).to_string().len() == 56
        }
    }

    #[test]
    fn decodes_real_aws_numbers() {
        // Shard start number from a real DescribeStream (kinesis-semantics §1.7).
        let start: SequenceNumber = "49549167410945534708633744510750617797212193316405248018"
            .parse()
            .unwrap();
        let f = SeqFormat::AwsV2.decode(&start).unwrap();
        assert_eq!((f.shard_index, f.counter), (1, 0));
        assert_eq!(f.epoch, 1_427_390_931); // 2015-03-26T17:28:51Z
        let end: SequenceNumber = "49549167410956685081233009822320176730553508082787287058"
            .parse()
            .unwrap();
        assert_eq!(SeqFormat::AwsV2.decode(&end).unwrap().counter, MAX_COUNTER);
        let a: SequenceNumber = "49570889523503059275381512478863820069782211031140925442"
            .parse()
            .unwrap();
        let b: SequenceNumber = "49570889523503059275381512478865028995601825660315631618"
            .parse()
            .unwrap();
        let (fa, fb) = (
            SeqFormat::AwsV2.decode(&a).unwrap(),
            SeqFormat::AwsV2.decode(&b).unwrap(),
        );
        assert_eq!(
            (fa.shard_index, fa.counter, fb.counter),
            (0, 663_152_097, 663_152_098)
        );
        let cli: SequenceNumber = "49600902273357540915989931256901506243878407835297513618"
            .parse()
            .unwrap();
        assert_eq!(SeqFormat::AwsV2.decode(&cli).unwrap().shard_index, 9);
    }

    #[test]
    fn readable_numbers_read_by_eye() {
        let n = SeqFormat::Readable.encode(SeqFields {
            epoch: 1,
            shard_index: 3,
            counter: 5,
            record_secs: 0,
        });
        assert_eq!(n.to_string(), "100000000030000000000000000005");
        assert_eq!(SeqFormat::Readable.decode(&"7".parse().unwrap()), None);
    }
}
