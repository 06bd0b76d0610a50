-- Stub of resty.lrucache: a plain table (split_host_port memoizes with it).
return {
  new = function()
    local t = {}
    return {
      get = function(_, k) return t[k] end,
      set = function(_, k, v) t[k] = v end,
    }
  end,
}
