-- Stub of resty.jit-uuid: transform.lua only builds a v5 factory at load; ids of split routes
-- are compared by kingress's own test (RFC 4122 v5), so the harness names them instead.
return {
  factory_v5 = function(namespace)
    return function(name) return "v5(" .. namespace .. "," .. name .. ")" end
  end,
}
