-- Stub of resty.ipmatcher's split_ip and parse_ipv4 (lua-resty-ipmatcher 0.6.1 lib/resty/
-- ipmatcher.lua): `addr/mask` split at the first "/", the mask a number; an IPv4 address as
-- its 32-bit value, false otherwise.
local function split_ip(ip)
  local idx = string.find(ip, "/", 1, true)
  if not idx then
    return ip
  end
  return string.sub(ip, 1, idx - 1), tonumber(string.sub(ip, idx + 1))
end

local function parse_ipv4(ip)
  local a, b, c, d = string.match(ip, "^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then
    return false
  end
  return ((tonumber(a) * 256 + tonumber(b)) * 256 + tonumber(c)) * 256 + tonumber(d)
end

return { split_ip = split_ip, parse_ipv4 = parse_ipv4 }
