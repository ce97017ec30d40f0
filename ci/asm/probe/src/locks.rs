//! Probes for the spin locks (`acqrel::spin_lock`, `acqrel::ticket_lock`).

use acqrel::{RawSpinLock, RawTicketLock};

/// `RawSpinLock::lock`: [SPIN-O1] Acquire compare-exchange, spinning on the
/// [SPIN-O3] Relaxed load while held.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_spin_lock(l: &RawSpinLock) {
    l.lock()
}

/// `RawSpinLock::try_lock`: one [SPIN-O1] Acquire (strong) compare-exchange.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_spin_try_lock(l: &RawSpinLock) -> bool {
    l.try_lock()
}

/// `RawSpinLock::unlock`: [SPIN-O2] Release store.
///
/// # Safety
///
/// The caller holds the lock.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe fn probe_spin_unlock(l: &RawSpinLock) {
    // SAFETY: the caller holds the lock.
    unsafe { l.unlock() }
}

/// `RawTicketLock::lock`: [TICKET-O3] Relaxed fetch_add of the ticket, then
/// the [TICKET-O1] Acquire claim compare-exchange.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_ticket_lock(l: &RawTicketLock) {
    l.lock()
}

/// `RawTicketLock::try_lock`: [TICKET-O4] Relaxed load, [TICKET-O3] Relaxed
/// compare-exchange of the ticket, [TICKET-O1] Acquire claim.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_ticket_try_lock(l: &RawTicketLock) -> bool {
    l.try_lock()
}

/// `RawTicketLock::unlock`: [TICKET-O4] Relaxed load, [TICKET-O2] Release
/// store.
///
/// # Safety
///
/// The caller holds the lock.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe fn probe_ticket_unlock(l: &RawTicketLock) {
    // SAFETY: the caller holds the lock.
    unsafe { l.unlock() }
}

pub(crate) fn check() {
    let s = RawSpinLock::new();
    probe_spin_lock(&s);
    assert!(!probe_spin_try_lock(&s), "held");
    // SAFETY: locked just above.
    unsafe { probe_spin_unlock(&s) };
    assert!(probe_spin_try_lock(&s));
    // SAFETY: locked just above.
    unsafe { probe_spin_unlock(&s) };
    let t = RawTicketLock::new();
    probe_ticket_lock(&t);
    assert!(!probe_ticket_try_lock(&t), "held");
    // SAFETY: locked just above.
    unsafe { probe_ticket_unlock(&t) };
    assert!(probe_ticket_try_lock(&t));
    // SAFETY: locked just above.
    unsafe { probe_ticket_unlock(&t) };
}
