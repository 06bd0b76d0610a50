//! Character scanning: lj_lex.c from lex_next to lj_lex_lookahead.

use super::strscan::strscan_ok;
use super::{
    EOF, Lex, R, RESERVED, TK_CONCAT, TK_DOTS, TK_EOF, TK_EQ, TK_GE, TK_LABEL, TK_LE, TK_NAME,
    TK_NE, TK_NUMBER, TK_OFS, TK_STRING, TOKEN_NAMES, is_digit, is_ident, is_space, is_xdigit,
};

impl Lex<'_> {
    // -- Characters --------------------------------------------------------

    /// lex.c:63-66 lex_next.
    pub(super) fn next_char(&mut self) -> i32 {
        self.c = match self.src.get(self.p) {
            Some(&b) => {
                self.p += 1;
                b as i32
            }
            None => EOF,
        };
        self.c
    }

    /// lex.c:69-72 lex_save (a byte).
    fn save(&mut self, c: i32) {
        self.sb.push(c as u8);
    }

    /// lex.c:75-79 lex_savenext.
    fn savenext(&mut self) -> i32 {
        self.save(self.c);
        self.next_char()
    }

    fn is_eol(&self) -> bool {
        self.c == b'\n' as i32 || self.c == b'\r' as i32
    }

    /// lex.c:82-90 lex_newline (LJ_MAX_LINE, 2^31, is out of reach here).
    fn newline(&mut self) {
        let old = self.c;
        self.next_char();
        if self.is_eol() && self.c != old {
            self.next_char();
        }
        self.linenumber += 1;
    }

    // -- Scanner -----------------------------------------------------------

    /// lex.c:95-137 lex_number: scan, then lj_strscan_scan decides.
    fn number(&mut self) -> R<()> {
        let mut xp = b'e' as i32;
        let mut c = self.c;
        if c == b'0' as i32 && (self.savenext() | 0x20) == b'x' as i32 {
            xp = b'p' as i32;
        }
        while is_ident(self.c)
            || self.c == b'.' as i32
            || ((self.c == b'-' as i32 || self.c == b'+' as i32) && (c | 0x20) == xp)
        {
            c = self.c;
            self.savenext();
        }
        self.save(0);
        let text = &self.sb[..self.sb.len() - 1];
        if !strscan_ok(text) {
            // lex.c:135 XNUMBER (errmsg.h:120)
            return Err(self.error(TK_NUMBER, "malformed number"));
        }
        Ok(())
    }

    /// lex.c:140-148 lex_skipeq.
    fn skipeq(&mut self) -> i64 {
        let mut count: i64 = 0;
        let s = self.c;
        while self.savenext() == b'=' as i32 && count < 0x2000_0000 {
            count += 1;
        }
        if self.c == s { count } else { -count - 1 }
    }

    /// lex.c:151-183 lex_longstring (`is_str` false: a long comment).
    fn longstring(&mut self, is_str: bool, sep: i64) -> R<()> {
        self.savenext(); // skip second '['
        if self.is_eol() {
            self.newline();
        }
        loop {
            match self.c {
                // XLSTR / XLCOM (errmsg.h:121-122)
                EOF => {
                    let m = if is_str {
                        "unfinished long string"
                    } else {
                        "unfinished long comment"
                    };
                    return Err(self.error(TK_EOF, m));
                }
                0x5d /* ']' */ => {
                    if self.skipeq() == sep {
                        self.savenext();
                        return Ok(());
                    }
                }
                0x0a | 0x0d => {
                    self.save(b'\n' as i32);
                    self.newline();
                    if !is_str {
                        self.sb.clear();
                    }
                }
                _ => {
                    self.savenext();
                }
            }
        }
    }

    /// lex.c:186-286 lex_string. Errors: XSTR "unfinished string", XESC
    /// "invalid escape sequence" (errmsg.h:123-124).
    fn string(&mut self) -> R<()> {
        let delim = self.c;
        self.savenext();
        while self.c != delim {
            match self.c {
                EOF => return Err(self.error(TK_EOF, "unfinished string")),
                0x0a | 0x0d => return Err(self.error(TK_STRING, "unfinished string")),
                0x5c /* '\\' */ => {
                    let mut c = self.next_char();
                    match c {
                        0x61 => c = 7,  // a
                        0x62 => c = 8,  // b
                        0x66 => c = 12, // f
                        0x6e => c = 10, // n
                        0x72 => c = 13, // r
                        0x74 => c = 9,  // t
                        0x76 => c = 11, // v
                        0x78 => {
                            // 'x': lex.c:209-220
                            c = (self.next_char() & 15) << 4;
                            if !is_digit(self.c) {
                                if !is_xdigit(self.c) {
                                    return Err(self.xesc());
                                }
                                c += 9 << 4;
                            }
                            c += self.next_char() & 15;
                            if !is_digit(self.c) {
                                if !is_xdigit(self.c) {
                                    return Err(self.xesc());
                                }
                                c += 9;
                            }
                        }
                        0x75 => {
                            // 'u': lex.c:221-247
                            if self.next_char() != b'{' as i32 {
                                return Err(self.xesc());
                            }
                            self.next_char();
                            c = 0;
                            loop {
                                c = (c << 4) | (self.c & 15);
                                if !is_digit(self.c) {
                                    if !is_xdigit(self.c) {
                                        return Err(self.xesc());
                                    }
                                    c += 9;
                                }
                                if c >= 0x11_0000 {
                                    return Err(self.xesc());
                                }
                                if self.next_char() == b'}' as i32 {
                                    break;
                                }
                            }
                            if c < 0x800 {
                                if c >= 0x80 {
                                    self.save(0xc0 | (c >> 6));
                                    c = 0x80 | (c & 0x3f);
                                }
                            } else {
                                if c >= 0x10000 {
                                    self.save(0xf0 | (c >> 18));
                                    self.save(0x80 | ((c >> 12) & 0x3f));
                                } else {
                                    if (0xd800..0xe000).contains(&c) {
                                        return Err(self.xesc());
                                    }
                                    self.save(0xe0 | (c >> 12));
                                }
                                self.save(0x80 | ((c >> 6) & 0x3f));
                                c = 0x80 | (c & 0x3f);
                            }
                        }
                        0x7a => {
                            // 'z': lex.c:248-253
                            self.next_char();
                            while is_space(self.c) {
                                if self.is_eol() {
                                    self.newline();
                                } else {
                                    self.next_char();
                                }
                            }
                            continue;
                        }
                        0x0a | 0x0d => {
                            self.save(b'\n' as i32);
                            self.newline();
                            continue;
                        }
                        0x5c | 0x22 | 0x27 => {}
                        EOF => continue,
                        _ => {
                            // decimal escape: lex.c:256-275
                            if !is_digit(c) {
                                return Err(self.xesc());
                            }
                            c -= b'0' as i32;
                            if is_digit(self.next_char()) {
                                c = c * 10 + (self.c - b'0' as i32);
                                if is_digit(self.next_char()) {
                                    c = c * 10 + (self.c - b'0' as i32);
                                    if c > 255 {
                                        return Err(self.xesc());
                                    }
                                    self.next_char();
                                }
                            }
                            self.save(c);
                            continue;
                        }
                    }
                    self.save(c);
                    self.next_char();
                }
                _ => {
                    self.savenext();
                }
            }
        }
        self.savenext(); // trailing delimiter
        Ok(())
    }

    fn xesc(&self) -> String {
        self.error(TK_STRING, "invalid escape sequence")
    }

    /// lex.c:291-393 lex_scan; names go to `val`.
    fn scan(&mut self, val: &mut Vec<u8>) -> R<i32> {
        self.sb.clear();
        loop {
            if is_ident(self.c) {
                if is_digit(self.c) {
                    self.number()?;
                    return Ok(TK_NUMBER);
                }
                loop {
                    self.savenext();
                    if !is_ident(self.c) {
                        break;
                    }
                }
                *val = self.sb.clone();
                if let Some(i) = TOKEN_NAMES[..RESERVED]
                    .iter()
                    .position(|k| k.as_bytes() == self.sb)
                {
                    return Ok(TK_OFS + 1 + i as i32);
                }
                return Ok(TK_NAME);
            }
            let c = self.c;
            match c {
                0x0a | 0x0d => {
                    self.newline();
                }
                0x20 | 0x09 | 0x0b | 0x0c => {
                    self.next_char();
                }
                0x2d /* '-' */ => {
                    self.next_char();
                    if self.c != b'-' as i32 {
                        return Ok(c);
                    }
                    self.next_char();
                    if self.c == b'[' as i32 {
                        let sep = self.skipeq();
                        self.sb.clear();
                        if sep >= 0 {
                            self.longstring(false, sep)?;
                            self.sb.clear();
                            continue;
                        }
                    }
                    while !self.is_eol() && self.c != EOF {
                        self.next_char();
                    }
                }
                0x5b /* '[' */ => {
                    let sep = self.skipeq();
                    if sep >= 0 {
                        self.longstring(true, sep)?;
                        return Ok(TK_STRING);
                    } else if sep == -1 {
                        return Ok(c);
                    } else {
                        // XLDELIM (errmsg.h:125)
                        return Err(self.error(TK_STRING, "invalid long string delimiter"));
                    }
                }
                0x3d | 0x3c | 0x3e | 0x7e => {
                    // '=' '<' '>' '~'
                    self.next_char();
                    if self.c != b'=' as i32 {
                        return Ok(c);
                    }
                    self.next_char();
                    return Ok(match c {
                        0x3d => TK_EQ,
                        0x3c => TK_LE,
                        0x3e => TK_GE,
                        _ => TK_NE,
                    });
                }
                0x3a /* ':' */ => {
                    self.next_char();
                    if self.c != b':' as i32 {
                        return Ok(c);
                    }
                    self.next_char();
                    return Ok(TK_LABEL);
                }
                0x22 | 0x27 => {
                    self.string()?;
                    return Ok(TK_STRING);
                }
                0x2e /* '.' */ => {
                    if self.savenext() == b'.' as i32 {
                        self.next_char();
                        if self.c == b'.' as i32 {
                            self.next_char();
                            return Ok(TK_DOTS);
                        }
                        return Ok(TK_CONCAT);
                    } else if !is_digit(self.c) {
                        return Ok(c);
                    } else {
                        self.number()?;
                        return Ok(TK_NUMBER);
                    }
                }
                EOF => return Ok(TK_EOF),
                _ => {
                    self.next_char();
                    return Ok(c);
                }
            }
        }
    }

    /// lex.c:456-466 lj_lex_next.
    pub(super) fn next(&mut self) -> R<()> {
        self.lastline = self.linenumber;
        if self.lookahead == TK_EOF {
            let mut v = Vec::new();
            self.tok = self.scan(&mut v)?;
            self.tokval = v;
        } else {
            self.tok = self.lookahead;
            self.lookahead = TK_EOF;
            self.tokval = std::mem::take(&mut self.lookaheadval);
        }
        Ok(())
    }

    /// lex.c:469-474 lj_lex_lookahead.
    pub(super) fn lookahead(&mut self) -> R<i32> {
        let mut v = Vec::new();
        self.lookahead = self.scan(&mut v)?;
        self.lookaheadval = v;
        Ok(self.lookahead)
    }
}
