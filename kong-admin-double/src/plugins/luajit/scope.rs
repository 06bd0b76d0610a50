//! Variables, upvalues, goto/label resolution and function scopes (lj_parse.c).

use super::{
    FSCOPE_BREAK, FSCOPE_GOLA, FSCOPE_LOOP, FuncState, LJ_MAX_LOCVAR, LJ_MAX_UPVAL, LJ_MAX_VSTACK,
    Lex, R, Scope, VName, VSTACK_GOTO, VSTACK_LABEL, VarInfo,
};

impl Lex<'_> {
    // -- Variables ---------------------------------------------------------

    /// parse.c:1048-1065 var_new; XLIMC (errmsg.h:129) for the variable stack.
    pub(super) fn var_new(&mut self, n: usize, name: VName) -> R<()> {
        let fi = self.fs.len() - 1;
        if self.fs[fi].nactvar + n >= LJ_MAX_LOCVAR {
            return Err(self.err_limit(fi, LJ_MAX_LOCVAR, "local variables"));
        }
        self.push_vstack(VarInfo {
            name,
            slot: 0,
            info: 0,
            line: 0,
        })?;
        let vtop = self.vstack.len() - 1;
        let f = self.cur();
        let at = f.nactvar + n;
        if f.varmap.len() <= at {
            f.varmap.resize(at + 1, 0);
        }
        f.varmap[at] = vtop;
        Ok(())
    }

    fn push_vstack(&mut self, v: VarInfo) -> R<()> {
        if self.vstack.len() >= LJ_MAX_VSTACK {
            return Err(self.error(
                0,
                &format!("chunk has more than {LJ_MAX_VSTACK} local variables"),
            ));
        }
        self.vstack.push(v);
        Ok(())
    }

    /// parse.c:1074-1085 var_add.
    pub(super) fn var_add(&mut self, nvars: usize) {
        let fi = self.fs.len() - 1;
        for _ in 0..nvars {
            let slot = self.fs[fi].nactvar;
            let idx = self.fs[fi].varmap[slot];
            let v = &mut self.vstack[idx];
            v.slot = slot;
            v.info = 0;
            self.fs[fi].nactvar += 1;
        }
    }

    /// parse.c:1126-1148 var_lookup_ (with var_lookup_local 1096-1104 and var_lookup_uv's upvalue limit 1107-1120).
    fn var_lookup_(&mut self, fi: Option<usize>, name: &[u8]) -> R<Option<usize>> {
        let Some(fi) = fi else { return Ok(None) };
        let f = &self.fs[fi];
        for i in (0..f.nactvar).rev() {
            let vidx = f.varmap[i];
            if matches!(&self.vstack[vidx].name, VName::Name(n) if n == name) {
                return Ok(Some(vidx));
            }
        }
        let outer = fi.checked_sub(1);
        if let Some(vidx) = self.var_lookup_(outer, name)? {
            if !self.fs[fi].uvmap.contains(&vidx) {
                if self.fs[fi].uvmap.len() >= LJ_MAX_UPVAL {
                    return Err(self.err_limit(fi, LJ_MAX_UPVAL, "upvalues"));
                }
                self.fs[fi].uvmap.push(vidx);
            }
            return Ok(Some(vidx));
        }
        Ok(None)
    }

    /// parse.c:1151-1152 var_lookup.
    pub(super) fn var_lookup(&mut self) -> R<()> {
        let name = self.lex_str()?;
        let top = self.fs.len() - 1;
        self.var_lookup_(Some(top), &name)?;
        Ok(())
    }

    // -- Gotos and labels (parse.c:1155-1275) ------------------------------

    /// parse.c:1157-1175 gola_new; the line is the jump's (bcemit_INS records
    /// ls->lastline, parse.c:429).
    pub(super) fn gola_new(&mut self, name: VName, info: u8) -> R<usize> {
        let slot = self.cur().nactvar;
        let line = self.lastline;
        self.push_vstack(VarInfo {
            name,
            slot,
            info,
            line,
        })?;
        Ok(self.vstack.len() - 1)
    }

    /// parse.c:1210-1226 gola_resolve, for the label `vl` at `idx`; XGSCOPE
    /// (errmsg.h:146).
    pub(super) fn gola_resolve(
        &mut self,
        vstart: usize,
        idx: usize,
        vl_name: &VName,
        vl_slot: usize,
    ) -> R<()> {
        for g in vstart..idx {
            let (slot, line) = (self.vstack[g].slot, self.vstack[g].line);
            if &self.vstack[g].name == vl_name && self.vstack[g].info & VSTACK_GOTO != 0 {
                if slot < vl_slot {
                    let f = self.fs.last().expect("a function is open");
                    let local = match &self.vstack[f.varmap[slot]].name {
                        VName::Name(n) => String::from_utf8_lossy(n).into_owned(),
                        _ => "?".into(),
                    };
                    let goto = match vl_name {
                        VName::Name(n) => String::from_utf8_lossy(n).into_owned(),
                        _ => "break".into(),
                    };
                    self.linenumber = line;
                    return Err(self.error(
                        0,
                        &format!("<goto {goto}> jumps into the scope of local '{local}'"),
                    ));
                }
                self.vstack[g].name = VName::Null; // gola_patch, parse.c:1182-1189
            }
        }
        Ok(())
    }

    /// parse.c:1229-1261 gola_fixup for the scope `bl` (already popped);
    /// XBREAK, XLUNDEF (errmsg.h:143-144).
    fn gola_fixup(&mut self, bl: &Scope) -> R<()> {
        let has_prev = !self.cur().bl.is_empty();
        for i in bl.vstart..self.vstack.len() {
            let name = self.vstack[i].name.clone();
            if name == VName::Null {
                continue;
            }
            if self.vstack[i].info & VSTACK_LABEL != 0 {
                self.vstack[i].name = VName::Null;
                for g in i + 1..self.vstack.len() {
                    if self.vstack[g].name == name && self.vstack[g].info & VSTACK_GOTO != 0 {
                        self.vstack[g].name = VName::Null;
                    }
                }
            } else if self.vstack[i].info & VSTACK_GOTO != 0 {
                if has_prev {
                    let flag = if name == VName::Break {
                        FSCOPE_BREAK
                    } else {
                        FSCOPE_GOLA
                    };
                    self.cur_bl().flags |= flag;
                    self.vstack[i].slot = bl.nactvar;
                } else {
                    self.linenumber = self.vstack[i].line;
                    return Err(match name {
                        VName::Name(n) => self.error(
                            0,
                            &format!("undefined label '{}'", String::from_utf8_lossy(&n)),
                        ),
                        _ => self.error(0, "no loop to break"),
                    });
                }
            }
        }
        Ok(())
    }

    /// parse.c:1264-1272 gola_findlabel.
    pub(super) fn gola_findlabel(&mut self, name: &[u8]) -> bool {
        let vstart = self.cur_bl().vstart;
        self.vstack[vstart..]
            .iter()
            .any(|v| v.info & VSTACK_LABEL != 0 && matches!(&v.name, VName::Name(n) if n == name))
    }

    // -- Scopes ------------------------------------------------------------

    /// parse.c:1277-1285 fscope_begin.
    pub(super) fn fscope_begin(&mut self, flags: u8) {
        let vstart = self.vstack.len();
        let f = self.cur();
        let nactvar = f.nactvar;
        f.bl.push(Scope {
            nactvar,
            flags,
            vstart,
        });
    }

    /// parse.c:1288-1311 fscope_end.
    pub(super) fn fscope_end(&mut self) -> R<()> {
        let bl = self.cur().bl.pop().expect("a scope is open");
        self.cur().nactvar = bl.nactvar; // var_remove
        if bl.flags & FSCOPE_BREAK != 0 {
            if bl.flags & FSCOPE_LOOP != 0 {
                // the break label is dropped at once (ls->vtop = idx)
                let idx = self.vstack.len();
                self.gola_resolve(bl.vstart, idx, &VName::Break, bl.nactvar)?;
            } else {
                return self.gola_fixup(&bl);
            }
        }
        if bl.flags & FSCOPE_GOLA != 0 {
            self.gola_fixup(&bl)?;
        }
        Ok(())
    }

    /// parse.c:1620-1642 fs_init.
    pub(super) fn fs_init(&mut self, linedefined: u32, vararg: bool) {
        let vbase = self.vstack.len();
        self.fs.push(FuncState {
            linedefined,
            vbase,
            nactvar: 0,
            varmap: Vec::new(),
            uvmap: Vec::new(),
            vararg,
            bl: Vec::new(),
        });
    }

    /// parse.c:1571-1617 fs_finish: fs_fixup_ret ends the outermost scope
    /// (parse.c:1533-1543), then the variable stack is reset.
    pub(super) fn fs_finish(&mut self) -> R<()> {
        self.fscope_end()?;
        let f = self.fs.pop().expect("a function is open");
        self.vstack.truncate(f.vbase);
        Ok(())
    }
}
