//! This process's CPU time, for costs per operation that background load does not inflate:
//! the sum over its threads of the nanoseconds each has run (`/proc/self/task/*/schedstat`,
//! Linux). Threads that exited earlier are not counted, so callers read it around work done
//! by threads that live throughout (a tokio runtime's workers, the calling thread).

use std::time::Duration;

/// CPU time run so far by this process's live threads; `None` where `/proc` does not say.
pub(crate) fn process() -> Option<Duration> {
    let mut total: u64 = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let path = task.ok()?.path().join("schedstat");
        let Ok(text) = std::fs::read_to_string(path) else {
            // The thread exited between listing and reading.
            continue;
        };
        let ran: u64 = text.split_whitespace().next()?.parse().ok()?;
        total = total.saturating_add(ran);
    }
    Some(Duration::from_nanos(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_with_work_on_linux() {
        let Some(before) = process() else {
            return;
        };
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        let after = process().unwrap();
        assert!(after > before, "{before:?} -> {after:?} ({x})");
    }
}
