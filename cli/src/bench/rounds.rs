//! Rows measured in interleaved rounds, keeping each row's best round: on a shared machine
//! other work only ever slows a round down, and taking turns spreads any slow spell over
//! every row instead of one, so ratios between rows of one run stay comparable.

use std::fmt::Display;

/// Measures every row `rounds` times (at least once), rows taking turns, and returns each
/// row's best value (`best` picks from two rounds); `None` for a row whose measurement failed
/// (reported once, then left out of later rounds).
pub(crate) fn best_of<R, T: Copy, E: Display>(
    rows: &[R],
    rounds: u32,
    label: impl Fn(&R) -> String,
    mut measure: impl FnMut(&R) -> Result<T, E>,
    best_of_two: impl Fn(T, T) -> T,
) -> Vec<Option<T>> {
    let mut best: Vec<Option<T>> = vec![None; rows.len()];
    let mut failed = vec![false; rows.len()];
    let rounds = rounds.max(1);
    for round in 1..=rounds {
        for (i, row) in rows.iter().enumerate() {
            if failed[i] {
                continue;
            }
            eprintln!("meshtls: round {round}/{rounds}: {}...", label(row));
            match measure(row) {
                Ok(value) => best[i] = Some(best[i].map_or(value, |b| best_of_two(b, value))),
                Err(e) => {
                    eprintln!("meshtls: {} skipped: {e}", label(row));
                    failed[i] = true;
                    best[i] = None;
                }
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_best_round_and_drops_failed_rows() {
        let mut calls = Vec::new();
        let mut next = [1.0, 5.0, 3.0].into_iter().cycle();
        let best = best_of(
            &["a", "b"],
            3,
            |r| r.to_string(),
            |r| {
                calls.push(*r);
                if *r == "b" {
                    Err("broken")
                } else {
                    Ok(next.next().unwrap())
                }
            },
            f64::max,
        );
        assert_eq!(best, vec![Some(5.0), None]);
        // Rows take turns; a failed row is not retried.
        assert_eq!(calls, ["a", "b", "a", "a"]);
    }
}
