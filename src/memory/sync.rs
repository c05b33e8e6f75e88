//! The synchronization facade of the shard log's concurrent core.
//!
//! [`ShardLogCore`](super::ShardLogCore) never names a lock, an atomic or a cell type directly:
//! it asks a [`SyncFacade`] for them. Production uses [`StdSync`] (`parking_lot` mutex, `std`
//! atomics, `std` cells: zero cost over naming them directly). Tests plug in loom's types
//! (exhaustive exploration of interleavings and of the C11 memory model) or shuttle's
//! (randomized scheduling of many threads) without any `cfg` switch, so a plain `cargo test`
//! model-checks the very code production runs.

use std::sync::atomic::Ordering;

/// A family of synchronization primitives the concurrent core is generic over.
///
/// An implementation must give each primitive the semantics of its `std` namesake under the
/// memory orderings requested (a model checker may check them more strictly, never less).
pub trait SyncFacade: Send + Sync + Sized + 'static {
    /// A short name for reports ("std", "loom", "shuttle").
    const NAME: &'static str;
    /// True only for facades driven by a model checker. The deliberately broken variants of
    /// the core (see [`CoreVariant`](super::CoreVariant)) refuse to run on any other facade.
    const MODEL_CHECKED: bool;
    /// A mutual-exclusion lock.
    type Mutex<T: Send>: FacadeMutex<T>;
    /// An atomic `usize`.
    type AtomicUsize: FacadeAtomicUsize;
    /// An atomic `bool`.
    type AtomicBool: FacadeAtomicBool;
    /// A cell whose aliasing discipline the caller upholds (a model checker verifies it).
    type Cell<T>: FacadeCell<T>;
}

/// A mutual-exclusion lock: at most one closure runs under it at a time.
pub trait FacadeMutex<T: Send>: Send + Sync {
    /// A lock holding `value`.
    fn new(value: T) -> Self;
    /// Runs `f` with exclusive access to the value. Everything done under one call
    /// happens-before everything done under any later call.
    fn with_lock<R>(&self, f: impl FnOnce(&mut T) -> R) -> R;
}

/// An atomic `usize` with `std` semantics.
pub trait FacadeAtomicUsize: Send + Sync {
    /// An atomic holding `value`.
    fn new(value: usize) -> Self;
    /// Loads the value with `order`.
    fn load(&self, order: Ordering) -> usize;
    /// Stores `value` with `order`.
    fn store(&self, value: usize, order: Ordering);
}

/// An atomic `bool` with `std` semantics.
pub trait FacadeAtomicBool: Send + Sync {
    /// An atomic holding `value`.
    fn new(value: bool) -> Self;
    /// Loads the value with `order`.
    fn load(&self, order: Ordering) -> bool;
    /// Stores `value` with `order`.
    fn store(&self, value: bool, order: Ordering);
}

/// A cell with interior mutability and no synchronization of its own (`UnsafeCell`).
pub trait FacadeCell<T> {
    /// A cell holding `value`.
    fn new(value: T) -> Self;
    /// Runs `f` with a shared reference to the value.
    ///
    /// # Safety
    /// No [`FacadeCell::with_mut`] on the same cell may run concurrently: every mutation must
    /// happen-before this call or start after it returns.
    unsafe fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R;
    /// Runs `f` with an exclusive reference to the value.
    ///
    /// # Safety
    /// No other access to the same cell may run concurrently: every other access must
    /// happen-before this call or start after it returns.
    unsafe fn with_mut<R>(&self, f: impl FnOnce(&mut T) -> R) -> R;
}

/// The production facade: `parking_lot::Mutex`, `std` atomics and `std::cell::UnsafeCell`.
#[derive(Clone, Copy, Debug, Default)]
pub struct StdSync;

impl SyncFacade for StdSync {
    const NAME: &'static str = "std";
    const MODEL_CHECKED: bool = false;
    type Mutex<T: Send> = parking_lot::Mutex<T>;
    type AtomicUsize = std::sync::atomic::AtomicUsize;
    type AtomicBool = std::sync::atomic::AtomicBool;
    type Cell<T> = StdCell<T>;
}

impl<T: Send> FacadeMutex<T> for parking_lot::Mutex<T> {
    fn new(value: T) -> Self {
        parking_lot::Mutex::new(value)
    }

    #[inline]
    fn with_lock<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.lock())
    }
}

impl FacadeAtomicUsize for std::sync::atomic::AtomicUsize {
    fn new(value: usize) -> Self {
        std::sync::atomic::AtomicUsize::new(value)
    }

    #[inline]
    fn load(&self, order: Ordering) -> usize {
        std::sync::atomic::AtomicUsize::load(self, order)
    }

    #[inline]
    fn store(&self, value: usize, order: Ordering) {
        std::sync::atomic::AtomicUsize::store(self, value, order);
    }
}

impl FacadeAtomicBool for std::sync::atomic::AtomicBool {
    fn new(value: bool) -> Self {
        std::sync::atomic::AtomicBool::new(value)
    }

    #[inline]
    fn load(&self, order: Ordering) -> bool {
        std::sync::atomic::AtomicBool::load(self, order)
    }

    #[inline]
    fn store(&self, value: bool, order: Ordering) {
        std::sync::atomic::AtomicBool::store(self, value, order);
    }
}

/// `std::cell::UnsafeCell` behind [`FacadeCell`]; also usable by facades whose model checker
/// serialises threads (shuttle), where no two accesses can overlap in real time.
#[derive(Debug, Default)]
pub struct StdCell<T>(std::cell::UnsafeCell<T>);

impl<T> FacadeCell<T> for StdCell<T> {
    fn new(value: T) -> Self {
        StdCell(std::cell::UnsafeCell::new(value))
    }

    #[inline]
    unsafe fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        // SAFETY: the caller rules out concurrent mutation (trait contract).
        f(unsafe { &*self.0.get() })
    }

    #[inline]
    unsafe fn with_mut<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        // SAFETY: the caller rules out any concurrent access (trait contract).
        f(unsafe { &mut *self.0.get() })
    }
}
