-- replace_dashes_lower from Kong 3.10 kong/tools/string.lua 383-415, its stream-subsystem
-- branch (the http one calls resty.core's str_replace_char, which does the same).
local find, gsub = string.find, string.gsub

local function str_replace_char(str, ch, replace)
  if not find(str, ch, nil, true) then
    return str
  end
  return gsub(str, ch, replace)
end

return {
  replace_dashes_lower = function(str)
    return str_replace_char(str:lower(), "-", "_")
  end,
}
