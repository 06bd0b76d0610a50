//! Expressions and statements (lj_parse.c), with the token helpers they share.

use super::{
    FSCOPE_BREAK, FSCOPE_GOLA, FSCOPE_LOOP, FuncState, LJ_MAX_XLEVEL, Lex, Prim, R, Scope, TK_AND,
    TK_BREAK, TK_CONCAT, TK_DO, TK_DOTS, TK_ELSE, TK_ELSEIF, TK_END, TK_EOF, TK_EQ, TK_FALSE,
    TK_FOR, TK_FUNCTION, TK_GE, TK_GOTO, TK_IF, TK_IN, TK_LABEL, TK_LE, TK_LOCAL, TK_NAME, TK_NE,
    TK_NIL, TK_NOT, TK_NUMBER, TK_OR, TK_REPEAT, TK_RETURN, TK_STRING, TK_THEN, TK_TRUE, TK_UNTIL,
    TK_WHILE, UNARY_PRIORITY, VName, VSTACK_GOTO, VSTACK_LABEL, token2str,
};

impl Lex<'_> {
    // -- Parser support ----------------------------------------------------

    /// parse.c:1001-1008 lex_opt.
    fn opt(&mut self, tok: i32) -> R<bool> {
        if self.tok == tok {
            self.next()?;
            return Ok(true);
        }
        Ok(false)
    }

    /// parse.c:1011-1016 lex_check.
    fn check(&mut self, tok: i32) -> R<()> {
        if self.tok != tok {
            return Err(self.err_token(tok));
        }
        self.next()
    }

    /// parse.c:1019-1030 lex_match; XMATCH (errmsg.h:132).
    fn matches(&mut self, what: i32, who: i32, line: u32) -> R<()> {
        if !self.opt(what)? {
            if line == self.linenumber {
                return Err(self.err_token(what));
            }
            let m = format!(
                "'{}' expected (to close '{}' at line {})",
                token2str(what),
                token2str(who),
                line
            );
            return Err(self.error(self.tok, &m));
        }
        Ok(())
    }

    /// parse.c:1033-1042 lex_str (LJ_52: `goto` is not a name).
    pub(super) fn lex_str(&mut self) -> R<Vec<u8>> {
        if self.tok != TK_NAME {
            return Err(self.err_token(TK_NAME));
        }
        let s = std::mem::take(&mut self.tokval);
        self.next()?;
        Ok(s)
    }

    pub(super) fn cur(&mut self) -> &mut FuncState {
        self.fs.last_mut().expect("a function is open")
    }

    pub(super) fn cur_bl(&mut self) -> &mut Scope {
        self.cur().bl.last_mut().expect("a scope is open")
    }

    /// parse.c:2042-2046 synlevel_begin; XLEVELS (errmsg.h:119).
    fn synlevel_begin(&mut self) -> R<()> {
        self.level += 1;
        if self.level >= LJ_MAX_XLEVEL {
            return Err(self.error(0, "chunk has too many syntax levels"));
        }
        Ok(())
    }

    // -- Expressions -------------------------------------------------------

    /// parse.c:1700-1706 expr_bracket.
    fn expr_bracket(&mut self) -> R<()> {
        self.next()?;
        self.expr()?;
        self.check(b']' as i32)
    }

    /// parse.c:1723-1830 expr_table.
    fn expr_table(&mut self) -> R<()> {
        let line = self.linenumber;
        self.check(b'{' as i32)?;
        while self.tok != b'}' as i32 {
            if self.tok == b'[' as i32 {
                self.expr_bracket()?;
                self.check(b'=' as i32)?;
            } else if self.tok == TK_NAME && self.lookahead()? == b'=' as i32 {
                self.lex_str()?;
                self.check(b'=' as i32)?;
            }
            self.expr()?;
            if !self.opt(b',' as i32)? && !self.opt(b';' as i32)? {
                break;
            }
        }
        self.matches(b'}' as i32, b'{' as i32, line)
    }

    /// parse.c:1833-1858 parse_params; XPARAM (errmsg.h:134).
    fn parse_params(&mut self, needself: bool) -> R<()> {
        let mut nparams = 0;
        self.check(b'(' as i32)?;
        if needself {
            self.var_new(nparams, VName::Name(b"self".to_vec()))?;
            nparams += 1;
        }
        if self.tok != b')' as i32 {
            loop {
                if self.tok == TK_NAME {
                    let s = self.lex_str()?;
                    self.var_new(nparams, VName::Name(s))?;
                    nparams += 1;
                } else if self.tok == TK_DOTS {
                    self.next()?;
                    self.cur().vararg = true;
                    break;
                } else {
                    return Err(self.err_syntax("<name> or '...' expected"));
                }
                if !self.opt(b',' as i32)? {
                    break;
                }
            }
        }
        self.var_add(nparams);
        self.check(b')' as i32)
    }

    /// parse.c:1864-1894 parse_body.
    fn parse_body(&mut self, needself: bool, line: u32) -> R<()> {
        self.fs_init(line, false);
        self.fscope_begin(0);
        self.parse_params(needself)?;
        self.parse_chunk()?;
        if self.tok != TK_END {
            self.matches(TK_END, TK_FUNCTION, line)?;
        }
        self.fs_finish()?;
        self.next()
    }

    /// parse.c:1897-1907 expr_list.
    fn expr_list(&mut self) -> R<()> {
        self.expr()?;
        while self.opt(b',' as i32)? {
            self.expr()?;
        }
        Ok(())
    }

    /// parse.c:1910-1954 parse_args (LJ_52: no XAMBIG, errmsg.h:135-137); XFUNARG (errmsg.h:138).
    fn parse_args(&mut self) -> R<()> {
        let line = self.linenumber;
        if self.tok == b'(' as i32 {
            self.next()?;
            if self.tok != b')' as i32 {
                self.expr_list()?;
            }
            self.matches(b')' as i32, b'(' as i32, line)
        } else if self.tok == b'{' as i32 {
            self.expr_table()
        } else if self.tok == TK_STRING {
            self.next()
        } else {
            Err(self.err_syntax("function arguments expected"))
        }
    }

    /// parse.c:1957-1994 expr_primary; XSYMBOL (errmsg.h:139).
    fn expr_primary(&mut self) -> R<Prim> {
        let mut k;
        if self.tok == b'(' as i32 {
            let line = self.linenumber;
            self.next()?;
            self.expr()?;
            self.matches(b')' as i32, b'(' as i32, line)?;
            k = Prim::Other; // expr_discharge: no longer a variable
        } else if self.tok == TK_NAME {
            self.var_lookup()?;
            k = Prim::Var;
        } else {
            return Err(self.err_syntax("unexpected symbol"));
        }
        loop {
            let t = self.tok;
            if t == b'.' as i32 {
                // expr_field, parse.c:1689-1697
                self.next()?;
                self.lex_str()?;
                k = Prim::Var;
            } else if t == b'[' as i32 {
                self.expr_bracket()?;
                k = Prim::Var;
            } else if t == b':' as i32 {
                self.next()?;
                self.lex_str()?;
                self.parse_args()?;
                k = Prim::Call;
            } else if t == b'(' as i32 || t == TK_STRING || t == b'{' as i32 {
                self.parse_args()?;
                k = Prim::Call;
            } else {
                return Ok(k);
            }
        }
    }

    /// parse.c:1997-2039 expr_simple; XDOTS (errmsg.h:140).
    fn expr_simple(&mut self) -> R<()> {
        match self.tok {
            TK_NUMBER | TK_STRING | TK_NIL | TK_TRUE | TK_FALSE => {}
            TK_DOTS => {
                if !self.cur().vararg {
                    return Err(self.err_syntax("cannot use '...' outside a vararg function"));
                }
            }
            0x7b /* '{' */ => return self.expr_table(),
            TK_FUNCTION => {
                self.next()?;
                let line = self.linenumber;
                return self.parse_body(false, line);
            }
            _ => return self.expr_primary().map(|_| ()),
        }
        self.next()
    }

    /// parse.c:2051-2071 token2binop, with the priorities of 2074-2083
    /// (left, right).
    fn binop_priority(tok: i32) -> Option<(u8, u8)> {
        Some(match tok {
            0x2b | 0x2d => (6, 6),        // + -
            0x2a | 0x2f | 0x25 => (7, 7), // * / %
            0x5e => (10, 9),              // ^
            TK_CONCAT => (5, 4),
            TK_EQ | TK_NE | 0x3c | TK_LE | 0x3e | TK_GE => (3, 3),
            TK_AND => (2, 2),
            TK_OR => (1, 1),
            _ => return None,
        })
    }

    /// parse.c:2091-2107 expr_unop.
    fn expr_unop(&mut self) -> R<()> {
        if self.tok == TK_NOT || self.tok == b'-' as i32 || self.tok == b'#' as i32 {
            self.next()?;
            self.expr_binop(UNARY_PRIORITY)?;
            Ok(())
        } else {
            self.expr_simple()
        }
    }

    /// parse.c:2110-2128 expr_binop: returns the unconsumed operator's
    /// priorities.
    fn expr_binop(&mut self, limit: u8) -> R<Option<(u8, u8)>> {
        self.synlevel_begin()?;
        self.expr_unop()?;
        let mut op = Self::binop_priority(self.tok);
        while let Some((left, right)) = op {
            if left <= limit {
                break;
            }
            self.next()?;
            op = self.expr_binop(right)?;
        }
        self.level -= 1;
        Ok(op)
    }

    /// parse.c:2131-2134 expr.
    fn expr(&mut self) -> R<()> {
        self.expr_binop(0).map(|_| ())
    }

    // -- Statements --------------------------------------------------------

    /// parse.c:2211-2245 parse_assignment; XSYNTAX (errmsg.h:141).
    fn parse_assignment(&mut self, k: Prim, nvars: u32) -> R<()> {
        if k != Prim::Var {
            return Err(self.err_syntax("syntax error"));
        }
        if self.opt(b',' as i32)? {
            let k2 = self.expr_primary()?;
            if self.level + nvars >= LJ_MAX_XLEVEL {
                let fi = self.fs.len() - 1;
                return Err(self.err_limit(fi, LJ_MAX_XLEVEL as usize, "variable names"));
            }
            self.parse_assignment(k2, nvars + 1)
        } else {
            self.check(b'=' as i32)?;
            self.expr_list()
        }
    }

    /// parse.c:2248-2259 parse_call_assign.
    fn parse_call_assign(&mut self) -> R<()> {
        let k = self.expr_primary()?;
        if k == Prim::Call {
            return Ok(());
        }
        self.parse_assignment(k, 1)
    }

    /// parse.c:2262-2293 parse_local.
    fn parse_local(&mut self) -> R<()> {
        if self.opt(TK_FUNCTION)? {
            let name = self.lex_str()?;
            self.var_new(0, VName::Name(name))?;
            self.var_add(1);
            let line = self.linenumber;
            self.parse_body(false, line)
        } else {
            let mut nvars = 0;
            loop {
                let name = self.lex_str()?;
                self.var_new(nvars, VName::Name(name))?;
                nvars += 1;
                if !self.opt(b',' as i32)? {
                    break;
                }
            }
            if self.opt(b'=' as i32)? {
                self.expr_list()?;
            }
            self.var_add(nvars);
            Ok(())
        }
    }

    /// parse.c:2296-2314 parse_func.
    fn parse_func(&mut self, line: u32) -> R<()> {
        self.next()?;
        self.var_lookup()?;
        while self.tok == b'.' as i32 {
            self.next()?;
            self.lex_str()?;
        }
        let mut needself = false;
        if self.tok == b':' as i32 {
            needself = true;
            self.next()?;
            self.lex_str()?;
        }
        self.parse_body(needself, line)
    }

    /// parse.c:2319-2327 parse_isend.
    fn is_end(tok: i32) -> bool {
        matches!(tok, TK_ELSE | TK_ELSEIF | TK_END | TK_UNTIL | TK_EOF)
    }

    /// parse.c:2330-2365 parse_return.
    fn parse_return(&mut self) -> R<()> {
        self.next()?;
        if !(Self::is_end(self.tok) || self.tok == b';' as i32) {
            self.expr_list()?;
        }
        Ok(())
    }

    /// parse.c:2368-2372 parse_break.
    fn parse_break(&mut self) -> R<()> {
        self.cur_bl().flags |= FSCOPE_BREAK;
        self.gola_new(VName::Break, VSTACK_GOTO)?;
        Ok(())
    }

    /// parse.c:2375-2384 parse_goto.
    fn parse_goto(&mut self) -> R<()> {
        let name = self.lex_str()?;
        self.cur_bl().flags |= FSCOPE_GOLA;
        self.gola_new(VName::Name(name), VSTACK_GOTO)?;
        Ok(())
    }

    /// parse.c:2387-2416 parse_label; XLDUP (errmsg.h:145).
    fn parse_label(&mut self) -> R<()> {
        self.cur_bl().flags |= FSCOPE_GOLA;
        self.next()?;
        let name = self.lex_str()?;
        if self.gola_findlabel(&name) {
            let m = format!("duplicate label '{}'", String::from_utf8_lossy(&name));
            return Err(self.error(0, &m));
        }
        let idx = self.gola_new(VName::Name(name), VSTACK_LABEL)?;
        self.check(TK_LABEL)?;
        loop {
            if self.tok == TK_LABEL {
                self.synlevel_begin()?;
                self.parse_label()?;
                self.level -= 1;
            } else if self.tok == b';' as i32 {
                self.next()?;
            } else {
                break;
            }
        }
        if Self::is_end(self.tok) && self.tok != TK_UNTIL {
            let n = self.cur_bl().nactvar;
            self.vstack[idx].slot = n;
        }
        let vstart = self.cur_bl().vstart;
        let (name, slot) = (self.vstack[idx].name.clone(), self.vstack[idx].slot);
        self.gola_resolve(vstart, idx, &name, slot)
    }

    /// parse.c:2421-2428 parse_block.
    fn parse_block(&mut self) -> R<()> {
        self.fscope_begin(0);
        self.parse_chunk()?;
        self.fscope_end()
    }

    /// parse.c:2431-2448 parse_while.
    fn parse_while(&mut self, line: u32) -> R<()> {
        self.next()?;
        self.expr()?;
        self.fscope_begin(FSCOPE_LOOP);
        self.check(TK_DO)?;
        self.parse_block()?;
        self.matches(TK_END, TK_WHILE, line)?;
        self.fscope_end()
    }

    /// parse.c:2451-2475 parse_repeat. (With upvalues in the body LuaJIT adds
    /// a hidden break, resolved by the loop scope: no error either way.)
    fn parse_repeat(&mut self, line: u32) -> R<()> {
        self.fscope_begin(FSCOPE_LOOP);
        self.fscope_begin(0);
        self.next()?;
        self.parse_chunk()?;
        self.matches(TK_UNTIL, TK_REPEAT, line)?;
        self.expr()?;
        self.fscope_end()?;
        self.fscope_end()
    }

    /// parse.c:2478-2513 parse_for_num.
    fn parse_for_num(&mut self, varname: Vec<u8>) -> R<()> {
        self.var_new(0, VName::Hidden)?;
        self.var_new(1, VName::Hidden)?;
        self.var_new(2, VName::Hidden)?;
        self.var_new(3, VName::Name(varname))?;
        self.check(b'=' as i32)?;
        self.expr()?;
        self.check(b',' as i32)?;
        self.expr()?;
        if self.opt(b',' as i32)? {
            self.expr()?;
        }
        self.var_add(3);
        self.check(TK_DO)?;
        self.fscope_begin(0);
        self.var_add(1);
        self.parse_block()?;
        self.fscope_end()
    }

    /// parse.c:2551-2590 parse_for_iter.
    fn parse_for_iter(&mut self, indexname: Vec<u8>) -> R<()> {
        let mut nvars = 0;
        for _ in 0..3 {
            self.var_new(nvars, VName::Hidden)?;
            nvars += 1;
        }
        self.var_new(nvars, VName::Name(indexname))?;
        nvars += 1;
        while self.opt(b',' as i32)? {
            let s = self.lex_str()?;
            self.var_new(nvars, VName::Name(s))?;
            nvars += 1;
        }
        self.check(TK_IN)?;
        self.expr_list()?;
        self.var_add(3);
        self.check(TK_DO)?;
        self.fscope_begin(0);
        self.var_add(nvars - 3);
        self.parse_block()?;
        self.fscope_end()
    }

    /// parse.c:2593-2609 parse_for; XFOR (errmsg.h:142).
    fn parse_for(&mut self, line: u32) -> R<()> {
        self.fscope_begin(FSCOPE_LOOP);
        self.next()?;
        let varname = self.lex_str()?;
        if self.tok == b'=' as i32 {
            self.parse_for_num(varname)?;
        } else if self.tok == b',' as i32 || self.tok == TK_IN {
            self.parse_for_iter(varname)?;
        } else {
            return Err(self.err_syntax("'=' or 'in' expected"));
        }
        self.matches(TK_END, TK_FOR, line)?;
        self.fscope_end()
    }

    /// parse.c:2612-2620 parse_then.
    fn parse_then(&mut self) -> R<()> {
        self.next()?;
        self.expr()?;
        self.check(TK_THEN)?;
        self.parse_block()
    }

    /// parse.c:2623-2644 parse_if.
    fn parse_if(&mut self, line: u32) -> R<()> {
        self.parse_then()?;
        while self.tok == TK_ELSEIF {
            self.parse_then()?;
        }
        if self.tok == TK_ELSE {
            self.next()?;
            self.parse_block()?;
        }
        self.matches(TK_END, TK_IF, line)
    }

    /// parse.c:2649-2704 parse_stmt (LJ_52): true if it must be last.
    fn parse_stmt(&mut self) -> R<bool> {
        let line = self.linenumber;
        match self.tok {
            TK_IF => self.parse_if(line)?,
            TK_WHILE => self.parse_while(line)?,
            TK_DO => {
                self.next()?;
                self.parse_block()?;
                self.matches(TK_END, TK_DO, line)?;
            }
            TK_FOR => self.parse_for(line)?,
            TK_REPEAT => self.parse_repeat(line)?,
            TK_FUNCTION => self.parse_func(line)?,
            TK_LOCAL => {
                self.next()?;
                self.parse_local()?;
            }
            TK_RETURN => {
                self.parse_return()?;
                return Ok(true);
            }
            TK_BREAK => {
                self.next()?;
                self.parse_break()?;
            }
            0x3b /* ';' */ => self.next()?,
            TK_LABEL => self.parse_label()?,
            TK_GOTO => {
                self.next()?;
                self.parse_goto()?;
            }
            _ => self.parse_call_assign()?,
        }
        Ok(false)
    }

    /// parse.c:2707-2720 parse_chunk.
    fn parse_chunk(&mut self) -> R<()> {
        self.synlevel_begin()?;
        let mut islast = false;
        while !islast && !Self::is_end(self.tok) {
            islast = self.parse_stmt()?;
            self.opt(b';' as i32)?;
        }
        self.level -= 1;
        Ok(())
    }

    /// parse.c:2723-2754 lj_parse: the main chunk is a vararg function.
    pub(super) fn parse(&mut self) -> R<()> {
        self.fs_init(0, true);
        self.fscope_begin(0);
        self.next()?;
        self.parse_chunk()?;
        if self.tok != TK_EOF {
            return Err(self.err_token(TK_EOF));
        }
        self.fs_finish()
    }
}
