//! The cross-check table: its pass rule and its printed form (the notebook runner parses it).

use shousi::crosscheck::{CrossCheck, Tol};

#[test]
fn pass_rule_follows_assert_close() {
    let t = Tol { atol: 1e-7, rtol: 1e-7 };
    assert!(t.close(1.0, 1.0 + 1.5e-7));
    assert!(!t.close(1.0, 1.0 + 3e-7));
    assert!(t.close(f64::NAN, f64::NAN));
    assert!(!t.close(f64::NAN, 0.0));
    assert!(t.close(f64::INFINITY, f64::INFINITY));
    assert!(!t.close(f64::INFINITY, f64::NEG_INFINITY));
    assert!(!t.close(1e300, f64::INFINITY));
}

#[test]
fn table_counts_and_prints_failures() {
    let mut c = CrossCheck::new("demo", "libtorch");
    c.scalar("good", 1.0, 1.0, Tol::F64)
        .vector("close vector", &[1.0, 2.0], &[1.0, 2.0 + 1e-9], Tol::F64)
        .scalar("bad", 1.0, 1.1, Tol::F64)
        .vector("length mismatch", &[1.0], &[1.0, 2.0], Tol::F64);
    assert_eq!(c.counts(), (2, 2));
    assert!(!c.all_passed());
    let s = c.to_string();
    assert!(s.starts_with("demo — ours vs libtorch\n| quantity | ours | libtorch |"), "{s}");
    assert_eq!(s.lines().filter(|l| l.ends_with("| pass |")).count(), 2, "{s}");
    assert_eq!(s.lines().filter(|l| l.ends_with("| FAIL |")).count(), 2, "{s}");
    assert!(s.ends_with("cross-checks passed 2 of 4 — SOME FAILED"), "{s}");
}
