//! The number scanner (lj_strscan.c) behind the lexer's "malformed number".

// strscan.c:375-541 lj_strscan_scan (with its base parsers 105-372) as the
// lexer calls it (lex.c:114-118): STRSCAN_OPT_TONUM | LL | IMAG, never C.
// Only whether the result is STRSCAN_ERROR matters here.
pub(super) fn strscan_ok(s: &[u8]) -> bool {
    #[derive(Clone, Copy, PartialEq, PartialOrd)]
    enum Fmt {
        Num,
        Imag,
        Int,
        U32,
        I64,
        U64,
    }
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let isdigit = |b: u8| b.is_ascii_digit();
    let isxdigit = |b: u8| b.is_ascii_hexdigit();
    let isspace = |b: u8| (9..=13).contains(&b) || b == 32;
    // The lexer's numbers start with a digit or '.', so the "inf"/"nan" and
    // leading-space branch (strscan.c:381-400) is never taken.
    let mut i = 0;
    let mut fmt = Fmt::Int;
    let mut base = 10;
    let mut hex = false;
    let mut dp: Option<usize> = None;
    let (mut dig, mut hasdig) = (0usize, false);
    // strscan.c:410-430
    if at(i) <= b'0' {
        if at(i) == b'0' {
            if at(i + 1) | 0x20 == b'x' {
                base = 16;
                hex = true;
                i += 2;
            } else if at(i + 1) | 0x20 == b'b' {
                base = 2;
                i += 2;
            }
        }
        loop {
            match at(i) {
                b'0' => hasdig = true,
                b'.' => {
                    if dp.is_some() {
                        return false;
                    }
                    dp = Some(i);
                }
                _ => break,
            }
            i += 1;
        }
    }
    // strscan.c:432-444
    let sp = i;
    loop {
        let b = at(i);
        if (hex && isxdigit(b)) || (!hex && isdigit(b)) {
            dig += 1;
        } else if b == b'.' {
            if dp.is_some() {
                return false;
            }
            dp = Some(i);
        } else {
            break;
        }
        i += 1;
    }
    if !(hasdig || dig > 0) {
        return false;
    }
    // strscan.c:446-456
    if let Some(d) = dp {
        if base == 2 {
            return false;
        }
        fmt = Fmt::Num;
        if dig > 0 {
            let mut ex = d as i64 - (i as i64 - 1);
            let mut q = i - 1;
            while ex < 0 && at(q) == b'0' {
                ex += 1;
                dig -= 1;
                q -= 1;
            }
            if ex <= -(1 << 20) {
                return false;
            }
        }
    }
    // strscan.c:458-472
    if base >= 10 && at(i) | 0x20 == if base == 16 { b'p' } else { b'e' } {
        fmt = Fmt::Num;
        i += 1;
        if at(i) == b'+' || at(i) == b'-' {
            i += 1;
        }
        if !isdigit(at(i)) {
            return false;
        }
        let mut xx: u32 = (at(i) & 15) as u32;
        i += 1;
        while isdigit(at(i)) {
            xx = xx * 10 + (at(i) & 15) as u32;
            if xx >= 1 << 20 {
                return false;
            }
            i += 1;
        }
    }
    // strscan.c:474-498 suffixes
    if at(i) != 0 {
        if at(i) | 0x20 == b'i' {
            i += 1;
            fmt = Fmt::Imag;
        } else if fmt == Fmt::Int {
            if at(i) | 0x20 == b'u' {
                i += 1;
                fmt = Fmt::U32;
            }
            if at(i) | 0x20 == b'l' {
                i += 1;
                if at(i) | 0x20 == b'l' {
                    i += 1;
                    fmt = if fmt == Fmt::U32 { Fmt::U64 } else { Fmt::I64 };
                } else {
                    return false; // no STRSCAN_OPT_C
                }
            }
            if at(i) | 0x20 == b'u' && (fmt == Fmt::Int || fmt == Fmt::I64) {
                i += 1;
                fmt = if fmt == Fmt::Int { Fmt::U32 } else { Fmt::U64 };
            }
            if fmt == Fmt::U32 {
                return false; // no STRSCAN_OPT_C
            }
        }
        while isspace(at(i)) {
            i += 1;
        }
        if at(i) != 0 {
            return false;
        }
    }
    if i < s.len() {
        return false;
    }
    let digits: Vec<u8> = s[sp..]
        .iter()
        .copied()
        .filter(|b| *b != b'.')
        .take(dig)
        .collect();
    match base {
        // strscan_hex, strscan.c:121-141: 64-bit integers take 16 digits.
        16 => !(matches!(fmt, Fmt::I64 | Fmt::U64) && dig > 16),
        // strscan_bin, strscan.c:339-344.
        2 => dig <= 64 && digits.iter().all(|b| *b == b'0' || *b == b'1'),
        // strscan_dec, strscan.c:221-263: 64-bit integers must take the
        // integer fast path (at most 20 digits, no overflow past 2^64).
        _ => {
            if !matches!(fmt, Fmt::I64 | Fmt::U64) {
                return true;
            }
            if dig > 20 {
                return false;
            }
            if dig == 20 {
                let first2 = (digits[0] & 15) * 10 + (digits[1] & 15);
                let mut x: u64 = 0;
                for b in &digits {
                    x = x.wrapping_mul(10).wrapping_add((b & 15) as u64);
                }
                return !(first2 > 18 || (x as i64) >= 0);
            }
            true
        }
    }
}
