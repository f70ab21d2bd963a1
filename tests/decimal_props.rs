//! Property tests for the exact decimal: text round trips, grid rounding and
//! mul/div consistency over random values.

use binance_exec::model::{Decimal, Rounding};
use proptest::prelude::*;

/// Values whose products stay far from i64 overflow.
fn moderate() -> impl Strategy<Value = i64> {
    -1_000_000_000_000_000i64..1_000_000_000_000_000i64
}

fn step() -> impl Strategy<Value = i64> {
    // Ticks/steps like the venue's: 1e-8 .. 1000, mostly powers of ten.
    prop_oneof![
        (0u32..=11).prop_map(|e| 10i64.pow(e)),
        1i64..=100_000_000_000i64,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn format_parse_round_trip(raw in any::<i64>().prop_filter("MIN not representable", |r| *r > i64::MIN)) {
        let d = Decimal::from_raw(raw);
        let mut buf = [0u8; 24];
        let s = d.format_into(&mut buf).to_string();
        prop_assert_eq!(Decimal::parse(&s), Ok(d));
        prop_assert_eq!(d.to_string(), s.clone());
        // Shortest form: no trailing zeros after a point, no exponent.
        prop_assert!(!s.contains('e'));
        if s.contains('.') { prop_assert!(!s.ends_with('0') && !s.ends_with('.')); }
    }

    #[test]
    fn padded_text_parses_to_same_value(raw in moderate(), pad in 0usize..6) {
        let d = Decimal::from_raw(raw);
        let mut buf = [0u8; 24];
        let fixed = d.format_fixed_into(&mut buf, Some(8)).to_string();
        let padded = format!("{fixed}{}", "0".repeat(pad));
        prop_assert_eq!(Decimal::parse(&padded), Ok(d));
    }

    #[test]
    fn tick_rounding_lands_on_grid_within_one_step(raw in moderate(), st in step()) {
        let v = Decimal::from_raw(raw);
        let s = Decimal::from_raw(st);
        for mode in [Rounding::Floor, Rounding::Ceil, Rounding::TowardZero, Rounding::HalfEven] {
            let r = v.round_to_step(s, mode).unwrap();
            prop_assert!(r.is_multiple_of(s), "{r} not on {s}");
            let dist = (r.raw() as i128 - v.raw() as i128).abs();
            prop_assert!(dist < st as i128, "{v} -> {r} moved {dist} >= step");
            match mode {
                Rounding::Floor => prop_assert!(r <= v),
                Rounding::Ceil => prop_assert!(r >= v),
                Rounding::TowardZero => prop_assert!(r.abs() <= v.abs()),
                Rounding::HalfEven => prop_assert!(dist * 2 <= st as i128),
            }
            if v.is_multiple_of(s) { prop_assert_eq!(r, v); }
        }
    }

    #[test]
    fn grid_with_origin(raw in moderate(), origin in -1_000_000_000i64..1_000_000_000, st in step()) {
        let v = Decimal::from_raw(raw);
        let o = Decimal::from_raw(origin);
        let s = Decimal::from_raw(st);
        let r = v.round_to_grid(o, s, Rounding::Floor).unwrap();
        prop_assert!(r.checked_sub(o).unwrap().is_multiple_of(s));
        prop_assert!(r <= v);
    }

    #[test]
    fn mul_div_consistency(a in -1_000_000_000_000i64..1_000_000_000_000, b in 1i64..10_000_000_000) {
        let x = Decimal::from_raw(a);
        let y = Decimal::from_raw(b);
        // Floor ≤ exact ≤ Ceil and they differ by at most one ulp.
        let lo = x.checked_mul(y, Rounding::Floor).unwrap();
        let hi = x.checked_mul(y, Rounding::Ceil).unwrap();
        prop_assert!(hi.raw() - lo.raw() <= 1);
        let exact = a as i128 * b as i128;
        prop_assert!((lo.raw() as i128) * 100_000_000 <= exact);
        prop_assert!((hi.raw() as i128) * 100_000_000 >= exact);
        // (x * y) / y comes back to x within the rounding of the product.
        let back = x.checked_mul(y, Rounding::HalfEven).unwrap()
            .checked_div(y, Rounding::HalfEven).unwrap();
        let err = (back.raw() as i128 - a as i128).abs();
        // HalfEven product error ≤ 0.5e-8, scaled by 1/y, plus 0.5 ulp.
        prop_assert!(err as f64 <= 0.5 * 1e8 / b as f64 + 1.0, "err {err} for {x} {y}");
        // Integer multiples divide exactly.
        let k = Decimal::from_raw((a % 1_000_000) * 100_000_000);
        let prod = k.checked_mul(y, Rounding::HalfEven).unwrap();
        prop_assert_eq!(prod.checked_div(y, Rounding::HalfEven), Some(k));
    }

    #[test]
    fn parse_never_panics(s in "[-+0-9.]{0,30}") {
        let _ = Decimal::parse(&s);
    }
}
