//! What LuaJIT's `loadstring(code, chunkname)` answers: `None` when the code
//! compiles, else LuaJIT's syntax error message. request-transformer's
//! `check_for_value` compiles each value with Penlight's `pl.template`
//! (`kong/plugins/request-transformer/schema.lua:19`), i.e. with LuaJIT's
//! parser, and quotes its error: the double needs that parser's verdicts and
//! words, so this is a syntax-only port of it (no bytecode is generated).
//!
//! Sources: LuaJIT 2.1 as OpenResty ships it (openresty/luajit2; Kong 3.10
//! builds OpenResty 1.27.1.2, `.requirements:3`, whose LuaJIT is
//! 2.1-20250117, `build/openresty/patches/LuaJIT-2.1-20250117_*`, none of which
//! touches the parser), read at v2.1-20240314: `src/lj_lex.c` (`lex.c:N`
//! below), `src/lj_parse.c` (`parse.c:N`), `src/lj_strscan.c`
//! (`strscan.c:N`), `src/lj_char.c`, `src/lj_errmsg.h` (`errmsg.h:N`),
//! `src/lj_err.c:954-965` (`lj_err_lex`), `src/lj_debug.c:333-361`
//! (`lj_debug_shortname`). Kong builds LuaJIT with `LUAJIT_ENABLE_LUA52COMPAT`
//! (build/openresty/BUILD.openresty.bazel:36), so `LJ_52` is on: `goto` is
//! always a keyword, `;` is a statement, `break` need not be last, and there
//! is no "ambiguous syntax" error. With FFI (x86_64/arm64), `1LL`, `1ULL` and
//! `1i` are numbers (`lex.c:108-110`).
//!
//! Not modelled (README): register and constant limits ("function or
//! expression too complex", `parse.c:379-387`; constants and bytecode size),
//! and which earlier instruction's line a `break`/`goto` error names when the
//! jump reuses a `UCLO` (`parse.c:693-707`).

mod lex;
mod parse;
mod scope;
mod strscan;
#[cfg(test)]
mod tests;

type R<T> = Result<T, String>;

// lex.c:42 LEX_EOF
const EOF: i32 = -1;

// Tokens: lj_lex.h:15-21 (TKDEF), numbered from TK_OFS + 1.
const TK_OFS: i32 = 256;
const TK_AND: i32 = 257;
const TK_BREAK: i32 = 258;
const TK_DO: i32 = 259;
const TK_ELSE: i32 = 260;
const TK_ELSEIF: i32 = 261;
const TK_END: i32 = 262;
const TK_FALSE: i32 = 263;
const TK_FOR: i32 = 264;
const TK_FUNCTION: i32 = 265;
const TK_GOTO: i32 = 266;
const TK_IF: i32 = 267;
const TK_IN: i32 = 268;
const TK_LOCAL: i32 = 269;
const TK_NIL: i32 = 270;
const TK_NOT: i32 = 271;
const TK_OR: i32 = 272;
const TK_REPEAT: i32 = 273;
const TK_RETURN: i32 = 274;
const TK_THEN: i32 = 275;
const TK_TRUE: i32 = 276;
const TK_UNTIL: i32 = 277;
const TK_WHILE: i32 = 278;
const TK_CONCAT: i32 = 279;
const TK_DOTS: i32 = 280;
const TK_EQ: i32 = 281;
const TK_GE: i32 = 282;
const TK_LE: i32 = 283;
const TK_NE: i32 = 284;
const TK_LABEL: i32 = 285;
const TK_NUMBER: i32 = 286;
const TK_NAME: i32 = 287;
const TK_STRING: i32 = 288;
const TK_EOF: i32 = 289;

// lex.c:31-38 tokennames (TKDEF order); the first 22 are the reserved words
// (lj_lex.h:16-18, TK_RESERVED at 30; lex.c:506-514 lj_lex_init).
const TOKEN_NAMES: [&str; 33] = [
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in",
    "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while", "..", "...",
    "==", ">=", "<=", "~=", "::", "<number>", "<name>", "<string>", "<eof>",
];
const RESERVED: usize = 22;

// Character classes: src/lj_char.c:24-42 (lj_char_bits), lj_char.h:11-35.
// Bytes 128-255 are identifier characters there.
fn is_cntrl(c: i32) -> bool {
    (0..=31).contains(&c) || c == 127
}
fn is_space(c: i32) -> bool {
    (9..=13).contains(&c) || c == 32
}
fn is_digit(c: i32) -> bool {
    (b'0' as i32..=b'9' as i32).contains(&c)
}
fn is_xdigit(c: i32) -> bool {
    is_digit(c)
        || (b'a' as i32..=b'f' as i32).contains(&c)
        || (b'A' as i32..=b'F' as i32).contains(&c)
}
fn is_ident(c: i32) -> bool {
    (0..=255).contains(&c) && (c >= 128 || (c as u8).is_ascii_alphanumeric() || c == b'_' as i32)
}

// parse.c:105-107 (FSCOPE_*), 118-120 (VSTACK_*).
const FSCOPE_LOOP: u8 = 0x01;
const FSCOPE_BREAK: u8 = 0x02;
const FSCOPE_GOLA: u8 = 0x04;
const VSTACK_GOTO: u8 = 0x02;
const VSTACK_LABEL: u8 = 0x04;

// lj_def.h:65, 68, 69; parse.c:115.
const LJ_MAX_XLEVEL: u32 = 200;
const LJ_MAX_LOCVAR: usize = 200;
const LJ_MAX_UPVAL: usize = 120;
const LJ_MAX_VSTACK: usize = 65536 - LJ_MAX_UPVAL;

// parse.c:2074-2083 (priority, ORDER OPR), 2085 UNARY_PRIORITY.
const UNARY_PRIORITY: u8 = 8;

/// Names on LuaJIT's variable stack: interned strings (compared by content),
/// `NAME_BREAK` (parse.c:111), the hidden `for` variables (VARNAME_FOR_*),
/// or NULL once a goto/label is resolved.
#[derive(Clone, PartialEq)]
enum VName {
    Null,
    Break,
    Hidden,
    Name(Vec<u8>),
}

// lj_lex.h:43-49 VarInfo; `line` stands for bcbase[startpc].line.
struct VarInfo {
    name: VName,
    slot: usize,
    info: u8,
    line: u32,
}

// parse.c FuncScope
struct Scope {
    nactvar: usize,
    flags: u8,
    vstart: usize,
}

// parse.c FuncState: only what the checks read.
struct FuncState {
    linedefined: u32,
    vbase: usize,
    nactvar: usize,
    varmap: Vec<usize>,
    uvmap: Vec<usize>,
    vararg: bool,
    bl: Vec<Scope>,
}

/// What `expr_primary` left: an assignable variable (VLOCAL..VINDEXED), a
/// call (VCALL) or anything else (parse.c:2214, 2252).
#[derive(Clone, Copy, PartialEq)]
enum Prim {
    Var,
    Call,
    Other,
}

struct Lex<'a> {
    src: &'a [u8],
    p: usize,
    c: i32,
    sb: Vec<u8>,
    tok: i32,
    tokval: Vec<u8>,
    lookahead: i32,
    lookaheadval: Vec<u8>,
    linenumber: u32,
    lastline: u32,
    chunkname: String,
    level: u32,
    fs: Vec<FuncState>,
    vstack: Vec<VarInfo>,
}

/// `loadstring(code, chunkname)` in LuaJIT: `None` if it compiles, else the
/// error message (`[string "TMP"]:1: ')' expected near 'x'`).
pub(crate) fn load_error(code: &[u8], chunkname: &str) -> Option<String> {
    let mut ls = Lex {
        src: code,
        p: 0,
        c: EOF,
        sb: Vec::new(),
        tok: 0,
        tokval: Vec::new(),
        lookahead: TK_EOF,
        lookaheadval: Vec::new(),
        linenumber: 1,
        lastline: 1,
        chunkname: shortname(chunkname),
        level: 0,
        fs: Vec::new(),
        vstack: Vec::new(),
    };
    // lex.c:398-444 lj_lex_setup (no BOM, `#!` line or bytecode: the
    // template code always starts with "return").
    ls.next_char();
    ls.parse().err()
}

/// lj_debug.c:347-360: `[string "name"]` (the name has no control characters
/// and fits LUA_IDSIZE here).
fn shortname(name: &str) -> String {
    format!("[string \"{name}\"]")
}

/// lex.c:477-485 lj_lex_token2str.
fn token2str(tok: i32) -> String {
    if tok > TK_OFS {
        TOKEN_NAMES[(tok - TK_OFS - 1) as usize].to_string()
    } else if !is_cntrl(tok) {
        (tok as u8 as char).to_string()
    } else {
        format!("char({tok})")
    }
}

impl Lex<'_> {
    // -- Errors ------------------------------------------------------------

    /// lex.c:488-503 lj_lex_error with lj_err.c:954-965 lj_err_lex: "%s:%d: %s"
    /// then XNEAR "%s near '%s'" (errmsg.h:117) when there is a token.
    fn error(&self, tok: i32, msg: &str) -> String {
        let near = if tok == 0 {
            None
        } else if tok == TK_NAME || tok == TK_STRING || tok == TK_NUMBER {
            // lex.c:494-496: the token buffer, as a C string
            let end = self
                .sb
                .iter()
                .position(|&b| b == 0)
                .unwrap_or(self.sb.len());
            Some(String::from_utf8_lossy(&self.sb[..end]).into_owned())
        } else {
            Some(token2str(tok))
        };
        let m = format!("{}:{}: {}", self.chunkname, self.linenumber, msg);
        match near {
            Some(t) => format!("{m} near '{t}'"),
            None => m,
        }
    }

    /// parse.c:174-177 err_syntax.
    fn err_syntax(&self, msg: &str) -> String {
        self.error(self.tok, msg)
    }

    /// parse.c:179-182 err_token; XTOKEN "'%s' expected" (errmsg.h:126).
    fn err_token(&self, tok: i32) -> String {
        self.error(self.tok, &format!("'{}' expected", token2str(tok)))
    }

    /// parse.c:184-190 err_limit; XLIMM / XLIMF (errmsg.h:130-131).
    fn err_limit(&self, fi: usize, limit: usize, what: &str) -> String {
        let ld = self.fs[fi].linedefined;
        if ld == 0 {
            self.error(0, &format!("main function has more than {limit} {what}"))
        } else {
            self.error(
                0,
                &format!("function at line {ld} has more than {limit} {what}"),
            )
        }
    }
}
