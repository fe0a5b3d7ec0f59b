//! The terminal table: one row per algorithm x op x size, one column per backend, each cell
//! with its ratio to the fastest backend of the row.

use std::fmt::Write;

use super::record::{CipherRecord, Op, Subject};

/// A row key: records that differ only in backend share a row.
type RowKey = (Subject, Op, Option<usize>);

/// Renders `records` with one column per backend of `backends`, rows in first-seen order.
pub(crate) fn render(records: &[CipherRecord], backends: &[&str]) -> String {
    let mut rows: Vec<RowKey> = Vec::new();
    for r in records {
        let key = (r.algorithm, r.op, r.metric.size());
        if !rows.contains(&key) {
            rows.push(key);
        }
    }
    const CELL: usize = 19;
    let mut out = String::new();
    let _ = write!(
        out,
        "{:<18} {:<9} {:>6} {:<6}",
        "algorithm", "op", "size", "unit"
    );
    for b in backends {
        let _ = write!(out, " {b:>CELL$}");
    }
    out.push('\n');
    for (algorithm, op, size) in rows {
        let value = |backend: &str| {
            records
                .iter()
                .find(|r| {
                    r.algorithm == algorithm
                        && r.op == op
                        && r.metric.size() == size
                        && r.backend == backend
                })
                .map(|r| r.metric.value())
        };
        let best = backends
            .iter()
            .filter_map(|b| value(b))
            .fold(0.0_f64, f64::max);
        let unit = if op.is_throughput() { "MB/s" } else { "ops/s" };
        let size = size.map(|s| s.to_string()).unwrap_or_else(|| "-".into());
        let _ = write!(
            out,
            "{:<18} {:<9} {size:>6} {unit:<6}",
            algorithm.name(),
            op.name()
        );
        for b in backends {
            let cell = match value(b) {
                Some(v) if best > 0.0 => format!("{v:.1} ({:.2})", v / best),
                Some(v) => format!("{v:.1}"),
                None => "-".into(),
            };
            let _ = write!(out, " {cell:>CELL$}");
        }
        out.push('\n');
    }
    out.push_str("(ratio) = value / fastest backend of the row; MB = 10^6 bytes\n");
    out
}

#[cfg(test)]
mod tests {
    use super::super::record::Metric;
    use super::*;
    use meshtls_tls_core::AlgorithmId;

    #[test]
    fn ratios_are_relative_to_the_fastest_backend() {
        let rec = |backend: &str, mb_per_s| CipherRecord {
            algorithm: Subject::Algorithm(AlgorithmId::Sha256),
            backend: backend.to_owned(),
            op: Op::Hash,
            metric: Metric::Throughput {
                size: 1024,
                mb_per_s,
            },
        };
        let text = render(&[rec("a", 100.0), rec("b", 50.0)], &["a", "b", "c"]);
        let row = text.lines().nth(1).unwrap();
        assert!(row.starts_with("sha256"), "{row}");
        assert!(row.contains("100.0 (1.00)"), "{row}");
        assert!(row.contains("50.0 (0.50)"), "{row}");
        assert!(row.trim_end().ends_with('-'), "{row}");
    }
}
