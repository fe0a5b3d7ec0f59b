//! The SM engine's performance goals (issue #3) as ratios of two cells of the same run,
//! printed under the `bench ciphers` table. A goal whose two cells were not both measured
//! (left out by `--algs`, `--backends` or `--sizes`, or skipped) is not printed.

use std::fmt::Write;

use meshtls_tls_core::AlgorithmId;

use super::record::{CipherRecord, Op, Subject};

/// The message size of the throughput goals: one full TLS record (RFC 8446 §5.1).
const RECORD: Option<usize> = Some(16 * 1024);

/// One measured cell: what, by whom, which operation, at which size.
#[derive(Clone, Copy, Debug)]
struct Cell {
    subject: Subject,
    backend: &'static str,
    op: Op,
    size: Option<usize>,
}

const fn cell(subject: Subject, backend: &'static str, op: Op, size: Option<usize>) -> Cell {
    Cell {
        subject,
        backend,
        op,
        size,
    }
}

const fn alg(id: AlgorithmId) -> Subject {
    Subject::Algorithm(id)
}

/// A goal: `ours / theirs >= at_least`.
#[derive(Clone, Copy, Debug)]
struct Goal {
    ours: Cell,
    theirs: Cell,
    at_least: f64,
}

/// The goals, in its order.
const GOALS: [Goal; 8] = {
    use AlgorithmId::{Aes128Gcm, CurveSm2, EcdsaP256, Sm2, Sm3, Sm4Gcm, P256};
    use Op::{Decrypt, Encrypt, Exchange, Hash, Seal, Sign, Verify};
    let sm4_ctr_openssl = cell(Subject::Sm4Ctr, "openssl", Encrypt, RECORD);
    [
        Goal {
            ours: cell(alg(Sm4Gcm), "sm", Seal, RECORD),
            theirs: cell(alg(Aes128Gcm), "openssl", Seal, RECORD),
            at_least: 0.5,
        },
        Goal {
            ours: cell(alg(Sm4Gcm), "sm", Seal, RECORD),
            theirs: sm4_ctr_openssl,
            at_least: 15.0,
        },
        Goal {
            ours: cell(Subject::Sm4Ctr, "sm", Encrypt, RECORD),
            theirs: sm4_ctr_openssl,
            at_least: 15.0,
        },
        Goal {
            ours: cell(Subject::Sm4Cbc, "sm", Decrypt, RECORD),
            theirs: cell(Subject::Sm4Cbc, "openssl", Decrypt, RECORD),
            at_least: 15.0,
        },
        Goal {
            ours: cell(alg(Sm3), "sm", Hash, RECORD),
            theirs: cell(alg(Sm3), "openssl", Hash, RECORD),
            at_least: 1.15,
        },
        Goal {
            ours: cell(alg(Sm2), "sm", Sign, None),
            theirs: cell(alg(EcdsaP256), "openssl", Sign, None),
            at_least: 2.3,
        },
        Goal {
            ours: cell(alg(Sm2), "sm", Verify, None),
            theirs: cell(alg(EcdsaP256), "openssl", Verify, None),
            at_least: 1.2,
        },
        Goal {
            ours: cell(alg(CurveSm2), "sm", Exchange, None),
            theirs: cell(alg(P256), "openssl", Exchange, None),
            at_least: 1.0,
        },
    ]
};

impl Cell {
    fn value(self, records: &[CipherRecord]) -> Option<f64> {
        records
            .iter()
            .find(|r| {
                r.algorithm == self.subject
                    && r.backend == self.backend
                    && r.op == self.op
                    && r.metric.size() == self.size
            })
            .map(|r| r.metric.value())
            .filter(|v| *v > 0.0)
    }

    fn label(self) -> String {
        let size = self.size.map(|s| format!(" {s}")).unwrap_or_default();
        format!("{} {} {}{size}", self.backend, self.subject, self.op.name())
    }
}

/// The goals block for `records`; empty when no goal had both cells measured.
pub(crate) fn render(records: &[CipherRecord]) -> String {
    let mut out = String::new();
    for goal in GOALS {
        let (Some(ours), Some(theirs)) = (goal.ours.value(records), goal.theirs.value(records))
        else {
            continue;
        };
        let ratio = ours / theirs;
        let verdict = if ratio >= goal.at_least {
            "met"
        } else {
            "MISSED"
        };
        let _ = writeln!(
            out,
            "  {:<26} / {:<32} = {ratio:>6.2}x  (goal >= {}x: {verdict})",
            goal.ours.label(),
            goal.theirs.label(),
            goal.at_least
        );
    }
    if out.is_empty() {
        return out;
    }
    format!("SM goals (issue #3; ratios of this run's cells):\n{out}")
}

#[cfg(test)]
mod tests {
    use super::super::record::Metric;
    use super::*;

    fn rec(subject: Subject, backend: &str, op: Op, size: Option<usize>, v: f64) -> CipherRecord {
        CipherRecord {
            algorithm: subject,
            backend: backend.to_owned(),
            op,
            metric: match size {
                Some(size) => Metric::Throughput { size, mb_per_s: v },
                None => Metric::Rate { ops_per_s: v },
            },
        }
    }

    #[test]
    fn goals_print_only_when_both_cells_exist() {
        assert_eq!(render(&[]), "");
        let records = [
            rec(Subject::Sm4Ctr, "sm", Op::Encrypt, RECORD, 2000.0),
            rec(Subject::Sm4Ctr, "openssl", Op::Encrypt, RECORD, 100.0),
            rec(Subject::Sm4Cbc, "sm", Op::Decrypt, RECORD, 1000.0),
            rec(alg(AlgorithmId::Sm2), "sm", Op::Sign, None, 10.0),
        ];
        let text = render(&records);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].starts_with("SM goals"), "{text}");
        assert!(lines[1].contains("sm sm4-ctr encrypt 16384"), "{text}");
        assert!(
            lines[1].contains("20.00x") && lines[1].contains("met"),
            "{text}"
        );
    }

    #[test]
    fn a_missed_goal_says_so() {
        let records = [
            rec(alg(AlgorithmId::Sm3), "sm", Op::Hash, RECORD, 100.0),
            rec(alg(AlgorithmId::Sm3), "openssl", Op::Hash, RECORD, 100.0),
        ];
        let text = render(&records);
        assert!(text.contains("1.00x") && text.contains("MISSED"), "{text}");
    }
}
