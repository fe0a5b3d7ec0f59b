//! The SM performance goals as ratios of two cells of the same run: the SM engine's (issue
//! #3) under the `bench ciphers` table, SM TLS handshakes (issue #4) under `bench handshake`,
//! and SM4-GCM record throughput (issue #4) under `bench transfer`. A goal whose two cells
//! were not both measured (left out by the command's options, or skipped) is not printed.

use std::fmt::Write;

use meshtls_tls_core::AlgorithmId;

use super::record::{CipherRecord, HandshakeRecord, Op, Subject, TransferRecord};

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

// === SM TLS goals (issue #4) ===

/// A cell of `bench handshake` or `bench transfer`: a client and server stack and a suite.
#[derive(Clone, Copy, Debug)]
struct TlsCell {
    client: &'static str,
    server: &'static str,
    suite: &'static str,
}

/// Both sides on `stack`.
const fn same(stack: &'static str, suite: &'static str) -> TlsCell {
    TlsCell {
        client: stack,
        server: stack,
        suite,
    }
}

impl TlsCell {
    fn label(self) -> String {
        if self.client == self.server {
            format!("{} {}", self.client, self.suite)
        } else {
            format!("{}>{} {}", self.client, self.server, self.suite)
        }
    }
}

/// A goal: `ours / theirs >= at_least`.
#[derive(Clone, Copy, Debug)]
struct TlsGoal {
    ours: TlsCell,
    theirs: TlsCell,
    at_least: f64,
}

/// Full mutual handshakes/s: RFC 8998 against standard TLS 1.3 on the same stack, and TLCP
/// ECDHE against Tongsuo's.
const HANDSHAKE_GOALS: [TlsGoal; 2] = [
    TlsGoal {
        ours: same("rustls", "TLS_SM4_GCM_SM3"),
        theirs: same("rustls", "TLS_AES_128_GCM_SHA256"),
        at_least: 1.0,
    },
    TlsGoal {
        ours: same("tlcp", "ECDHE_SM4_GCM_SM3"),
        theirs: same("tongsuo", "ECDHE_SM4_GCM_SM3"),
        at_least: 1.5,
    },
];

/// Record throughput over loopback: SM4-GCM (RFC 8998 on rustls, and TLCP) against
/// AES-128-GCM on rustls.
const TRANSFER_GOALS: [TlsGoal; 2] = [
    TlsGoal {
        ours: same("rustls", "TLS_SM4_GCM_SM3"),
        theirs: same("rustls", "TLS_AES_128_GCM_SHA256"),
        at_least: 0.7,
    },
    TlsGoal {
        ours: same("tlcp", "ECDHE_SM4_GCM_SM3"),
        theirs: same("rustls", "TLS_AES_128_GCM_SHA256"),
        at_least: 0.7,
    },
];

/// The goals block for `bench handshake`; empty when no goal had both cells measured. Where
/// both cells have a CPU cost, the ratio of handshakes per CPU-second follows the verdict:
/// unlike handshakes/s, it does not move with other load on the machine.
pub(crate) fn render_handshake(records: &[HandshakeRecord]) -> String {
    let value = |cell: TlsCell| {
        records
            .iter()
            .find(|r| r.client == cell.client && r.server == cell.server && r.suite == cell.suite)
            .map(|r| {
                let per_cpu_second = r
                    .cpu_us_per_handshake
                    .filter(|us| *us > 0.0)
                    .map(|us| 1e6 / us);
                (r.handshakes_per_s, per_cpu_second)
            })
    };
    render_tls(
        "SM TLS handshake goals (issue #4; handshakes/s of this run)",
        &HANDSHAKE_GOALS,
        value,
    )
}

/// The goals block for `bench transfer`; empty when no goal had both cells measured. Where
/// both cells have a CPU cost, the ratio of MB per CPU-second follows the verdict.
pub(crate) fn render_transfer(records: &[TransferRecord]) -> String {
    let value = |cell: TlsCell| {
        records
            .iter()
            .find(|r| r.stack == cell.client && cell.client == cell.server && r.suite == cell.suite)
            .map(|r| {
                let per_cpu_second = r.cpu_ms_per_mb.filter(|ms| *ms > 0.0).map(|ms| 1e3 / ms);
                (r.mb_per_s, per_cpu_second)
            })
    };
    render_tls(
        "SM record-throughput goals (issue #4; MB/s of this run)",
        &TRANSFER_GOALS,
        value,
    )
}

/// `value` gives a cell's measurement and, optionally, the same per CPU-second.
fn render_tls(
    title: &str,
    goals: &[TlsGoal],
    value: impl Fn(TlsCell) -> Option<(f64, Option<f64>)>,
) -> String {
    let mut out = String::new();
    for goal in goals {
        let measured = |cell| value(cell).filter(|(v, _)| *v > 0.0);
        let (Some((ours, ours_cpu)), Some((theirs, theirs_cpu))) =
            (measured(goal.ours), measured(goal.theirs))
        else {
            continue;
        };
        let ratio = ours / theirs;
        let verdict = if ratio >= goal.at_least {
            "met"
        } else {
            "MISSED"
        };
        let per_cpu = match (ours_cpu, theirs_cpu) {
            (Some(o), Some(t)) => format!("; per CPU-second {:.2}x", o / t),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  {:<26} / {:<32} = {ratio:>6.2}x  (goal >= {}x: {verdict}{per_cpu})",
            goal.ours.label(),
            goal.theirs.label(),
            goal.at_least
        );
    }
    if out.is_empty() {
        return out;
    }
    format!("{title}:\n{out}")
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

    fn handshake(
        client: &'static str,
        server: &'static str,
        suite: &'static str,
        v: f64,
    ) -> HandshakeRecord {
        HandshakeRecord {
            client,
            server,
            protocol: "TLSv1.3",
            suite,
            group: None,
            key: "sm2",
            mode: "full",
            handshakes_per_s: v,
            cpu_us_per_handshake: Some(1e6 / v),
        }
    }

    #[test]
    fn handshake_goals_compare_cells_of_the_run() {
        assert_eq!(render_handshake(&[]), "");
        let records = [
            handshake("rustls", "rustls", "TLS_AES_128_GCM_SHA256", 100.0),
            handshake("rustls", "rustls", "TLS_SM4_GCM_SM3", 120.0),
            handshake("tlcp", "tlcp", "ECDHE_SM4_GCM_SM3", 100.0),
            handshake("tlcp", "tongsuo", "ECDHE_SM4_GCM_SM3", 500.0),
        ];
        let text = render_handshake(&records);
        let lines: Vec<&str> = text.lines().collect();
        // The TLCP goal needs Tongsuo on both sides: a mixed row does not stand in for it.
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].starts_with("SM TLS handshake goals"), "{text}");
        assert!(lines[1].contains("rustls TLS_SM4_GCM_SM3"), "{text}");
        assert!(
            lines[1].contains("1.20x") && lines[1].contains("met; per CPU-second 1.20x"),
            "{text}"
        );
        let with_tongsuo = [
            handshake("tlcp", "tlcp", "ECDHE_SM4_GCM_SM3", 100.0),
            handshake("tongsuo", "tongsuo", "ECDHE_SM4_GCM_SM3", 100.0),
        ];
        let text = render_handshake(&with_tongsuo);
        assert!(
            text.contains("1.00x") && text.contains("goal >= 1.5x: MISSED"),
            "{text}"
        );
    }

    #[test]
    fn transfer_goals_compare_sm4_gcm_with_aes_128_gcm() {
        let rec = |stack, suite, mb_per_s| TransferRecord {
            stack,
            protocol: "TLSv1.3",
            suite,
            bytes: 1,
            write_size: 1,
            mb_per_s,
            cpu_ms_per_mb: (stack == "rustls").then(|| 1e3 / mb_per_s),
        };
        let records = [
            rec("rustls", "TLS_AES_128_GCM_SHA256", 1000.0),
            rec("rustls", "TLS_SM4_GCM_SM3", 800.0),
            rec("tlcp", "ECDHE_SM4_GCM_SM3", 500.0),
        ];
        let text = render_transfer(&records);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(
            lines[1].contains("0.80x") && lines[1].contains("met; per CPU-second 0.80x"),
            "{text}"
        );
        // Only one cell of this goal has a CPU cost: no CPU ratio.
        assert!(
            lines[2].contains("tlcp ECDHE_SM4_GCM_SM3") && lines[2].ends_with("MISSED)"),
            "{text}"
        );
    }
}
