-- The two names transform.lua takes from kong.router.utils (Kong 3.10 kong/router/utils.lua
-- 33 and 264-267, copied; the rest of that module needs a running Kong).
local byte = string.byte
local TILDE = byte("~")

return {
  DEFAULT_MATCH_LRUCACHE_SIZE = 5000,
  is_regex_magic = function(path)
    return byte(path) == TILDE
  end,
}
