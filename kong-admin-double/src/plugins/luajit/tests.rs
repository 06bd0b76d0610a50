use super::*;

fn err(code: &str) -> String {
    load_error(code.as_bytes(), "TMP").unwrap_or_default()
}

#[test]
fn valid_chunks_load() {
    for code in [
        "return function(...) local a, b = 0, {}; a = a + 1; b[a] = (x.y['z']:m(1, ...)) end",
        "local t = {1, 2; a = 3, [4] = 5,} for i = 1, 10, 2 do if i then break end end",
        "goto l ::l:: ; do local x end repeat local y until y",
        "return 0x1p4, 1e10, 0x10LL, 10ULL, 2i, .5, 3., 0b101",
        "local s = [==[ a ]] ]==] .. 'x\\z  y' .. \"\\u{48}\\65\\x41\\\n\"",
    ] {
        assert_eq!(load_error(code.as_bytes(), "TMP"), None, "{code}");
    }
}

#[test]
fn syntax_errors_in_luajit_words() {
    assert_eq!(
        err("x = (a b)"),
        "[string \"TMP\"]:1: ')' expected near 'b'"
    );
    assert_eq!(
        err("x ="),
        "[string \"TMP\"]:1: unexpected symbol near '<eof>'"
    );
    assert_eq!(
        err("x = 3..2"),
        "[string \"TMP\"]:1: malformed number near '3..2'"
    );
    assert_eq!(
        err("x = 'ab\n'"),
        "[string \"TMP\"]:1: unfinished string near ''ab'"
    );
    assert_eq!(
        err("return function() return ... end"),
        "[string \"TMP\"]:1: cannot use '...' outside a vararg function near '...'"
    );
    assert_eq!(
        err("f(\n\nx"),
        "[string \"TMP\"]:3: ')' expected (to close '(' at line 1) near '<eof>'"
    );
    assert_eq!(
        err("(f())"),
        "[string \"TMP\"]:1: syntax error near '<eof>'"
    );
    assert_eq!(
        err("do\n break end"),
        "[string \"TMP\"]:2: no loop to break"
    );
    assert_eq!(err("goto x"), "[string \"TMP\"]:1: undefined label 'x'");
    assert_eq!(
        err("x = 1LU"),
        "[string \"TMP\"]:1: malformed number near '1LU'"
    );
    assert_eq!(
        err("x = '\\q'"),
        "[string \"TMP\"]:1: invalid escape sequence near '''"
    );
}
