//! Append-only slot storage that one writer fills and many readers read without a lock.
//!
//! Slots live in chunks of doubling size (16, 32, 64, …) reached through a fixed directory,
//! so a slot never moves once written and growing never copies. The storage itself does no
//! synchronization: its owner publishes how many slots are written (see
//! [`ShardLogCore`](super::ShardLogCore)) and upholds the contracts of [`Slots::write`] and
//! [`Slots::get`].

use super::sync::{FacadeCell, SyncFacade};

/// log2 of the first chunk's capacity.
const FIRST_CHUNK_SHIFT: u32 = 4;
/// Directory length: enough chunks to address every index up to `isize::MAX` (no log can
/// hold more records than an allocation can).
const CHUNKS: usize = (usize::BITS - FIRST_CHUNK_SHIFT) as usize;

/// One chunk of slots.
type Chunk<S, T> = Box<[<S as SyncFacade>::Cell<Option<T>>]>;
/// The directory of chunks (a `None` entry is a chunk not yet allocated).
type Directory<S, T> = Box<[<S as SyncFacade>::Cell<Option<Chunk<S, T>>>]>;

/// Where slot `index` lives: (chunk, offset inside the chunk).
fn locate(index: usize) -> (usize, usize) {
    let j = (index >> FIRST_CHUNK_SHIFT) + 1;
    let chunk = (usize::BITS - 1 - j.leading_zeros()) as usize;
    let chunk_start = ((1usize << chunk) - 1) << FIRST_CHUNK_SHIFT;
    (chunk, index - chunk_start)
}

/// Append-only storage of `T`s. Guarantees: a written slot keeps its value and address until
/// the storage is dropped; an unwritten slot reads as `None` (never as garbage).
pub(super) struct Slots<S: SyncFacade, T> {
    directory: Directory<S, T>,
}

// SAFETY: the cells are only touched under the contracts of `write` and `get`, which rule out
// a write racing any other access to the same cell; values move between threads only as `T`.
unsafe impl<S: SyncFacade, T: Send + Sync> Sync for Slots<S, T> {}
// SAFETY: owning the storage is owning `T`s.
unsafe impl<S: SyncFacade, T: Send> Send for Slots<S, T> {}

impl<S: SyncFacade, T> Slots<S, T> {
    /// Empty storage; no chunk is allocated until the first write.
    pub(super) fn new() -> Self {
        Slots {
            directory: (0..CHUNKS).map(|_| S::Cell::new(None)).collect(),
        }
    }

    /// Writes `value` into slot `index`.
    ///
    /// # Safety
    /// Only one thread writes at a time (the caller holds the writer lock), slot `index` is not
    /// yet written, and no reader may access slot `index` (or any slot of a chunk not yet
    /// allocated) until a publication that happens-after this call.
    pub(super) unsafe fn write(&self, index: usize, value: T) {
        let (chunk, offset) = locate(index);
        let cell = &self.directory[chunk];
        // SAFETY: only the writer mutates directory cells; readers reach chunk `chunk` only
        // through a published index, and none is published yet when it is first allocated.
        let present = unsafe { cell.with(Option::is_some) };
        if !present {
            let capacity = 1usize << (FIRST_CHUNK_SHIFT as usize + chunk);
            let fresh: Chunk<S, T> = (0..capacity).map(|_| S::Cell::new(None)).collect();
            // SAFETY: as above, no reader can be looking at this unallocated chunk.
            unsafe { cell.with_mut(|c| *c = Some(fresh)) };
        }
        // SAFETY: the slot is unpublished, so nobody else accesses it (caller contract).
        unsafe {
            cell.with(|c| {
                if let Some(slots) = c {
                    slots[offset].with_mut(|slot| *slot = Some(value));
                }
            });
        }
    }

    /// Runs `f` on slot `index` (`None` when it was never written).
    ///
    /// # Safety
    /// The write of slot `index`, if any, happens-before this call (the caller acquired a
    /// publication covering it, or is the writer itself).
    pub(super) unsafe fn get<R>(&self, index: usize, f: impl FnOnce(Option<&T>) -> R) -> R {
        let (chunk, offset) = locate(index);
        // SAFETY: caller contract; a directory cell is only mutated before the first slot of
        // its chunk is published.
        unsafe {
            self.directory[chunk].with(|c| match c {
                Some(slots) => slots[offset].with(|slot| f(slot.as_ref())),
                None => f(None),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::sync::StdSync;

    #[test]
    fn chunks_tile_the_index_space() {
        assert_eq!(locate(0), (0, 0));
        assert_eq!(locate(15), (0, 15));
        assert_eq!(locate(16), (1, 0));
        assert_eq!(locate(47), (1, 31));
        assert_eq!(locate(48), (2, 0));
        assert_eq!(locate(isize::MAX as usize).0, CHUNKS - 1);
        let mut expected = (0usize, 0usize);
        for i in 0..5_000 {
            let got = locate(i);
            if got.0 != expected.0 {
                assert_eq!(expected.1, 1 << (FIRST_CHUNK_SHIFT as usize + expected.0));
                expected = (got.0, 0);
            }
            assert_eq!(got, expected);
            expected.1 += 1;
        }
    }

    #[test]
    fn written_slots_read_back_and_unwritten_ones_are_empty() {
        let slots: Slots<StdSync, u32> = Slots::new();
        for i in 0..200u32 {
            // SAFETY: single-threaded.
            unsafe { slots.write(i as usize, i * 3) };
        }
        for i in 0..200usize {
            // SAFETY: single-threaded.
            assert_eq!(unsafe { slots.get(i, |v| v.copied()) }, Some(i as u32 * 3));
        }
        // SAFETY: single-threaded.
        assert_eq!(unsafe { slots.get(200, |v| v.copied()) }, None);
        // SAFETY: single-threaded.
        assert_eq!(unsafe { slots.get(1 << 40, |v| v.copied()) }, None);
    }
}
