-- OpenResty LuaJIT's table.isempty.
return function(t)
  return next(t) == nil
end
