-- Runs Kong's REAL kong/runloop/balancer/consistent_hashing.lua (Kong 3.10,
-- unchanged since 3.4) with the real luaxxhash 1.0.0, under LuaJIT. Copied from
-- ../shared/reference/kong-ring; see README.md here for provenance.
-- Only the things that file touches outside itself are stubbed:
--   * global `ngx` (log, CRIT, DEBUG)
--   * module "kong.runloop.balancer.balancers" (errors table, getAddressPeer)
-- The balancer/target/address tables are shaped as Kong's balancers.lua
-- (create_balancer_exclusive, addAddress) and targets.lua
-- (load_targets_into_memory) build them for IP targets.
--
--
-- kingress extension (the only change to the shared harness): IPv6 targets.
-- A case gives an IPv6 target's `ip` as Kong's targets DAO stores its name:
-- fully expanded, lower case, in brackets ("[2001:0db8:...:0001]";
-- kong/tools/ip.lua normalize_ipv6 + format_host, Kong 3.10). targets.lua
-- line 96 splits that off the port, and the DNS client returns an IPv6
-- literal as a record whose address is the name itself, brackets kept
-- (kong/resty/dns/client.lua check_ipv6, lines 977-1008), so the balancer's
-- address ip is the bracketed name and point i hashes "[...]::port i".
-- The harness sets ipType the way dns_utils.hostnameType would ("ipv6" for a
-- name with a colon); consistent_hashing.lua itself never reads it.
--
-- usage: luajit kong_ring.lua cases.lua   (cases.lua is written by tests/kong_ring.rs)
-- output: tab-separated lines, keys hex-encoded.

local here = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/src/?.lua;" .. package.path

local crit_log = {}
ngx = {
  CRIT = 2, DEBUG = 8,
  log = function(level, ...)
    if level == 2 then crit_log[#crit_log + 1] = table.concat({ ... }) end
  end,
}

local errors = {
  ERR_DNS_UPDATED = "Cannot get peer, a DNS update changed the balancer structure, please retry",
  ERR_ADDRESS_UNAVAILABLE = "Address is marked as unavailable",
  ERR_NO_PEERS_AVAILABLE = "No peers are available",
  ERR_BALANCER_UNHEALTHY = "Balancer is unhealthy",
}
package.loaded["kong.runloop.balancer.balancers"] = {
  errors = errors,
  -- targets.getAddressPeer for an IP address: ip, port, hostHeader
  getAddressPeer = function(address, cacheOnly)
    if not address.available then return nil, errors.ERR_ADDRESS_UNAVAILABLE end
    return address.ip, address.port, address.hostHeader
  end,
}

local consistent_hashing = require "kong.runloop.balancer.consistent_hashing"
local xxhash32 = require "luaxxhash"  -- same module instance Kong's file uses

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local function label(a) return tostring(a.ip) .. ":" .. tostring(a.port) end

local cases = dofile(arg[1])
local out = io.stdout

for _, case in ipairs(cases) do
  crit_log = {}
  -- balancers.lua create_balancer_exclusive
  local balancer = { wheelSize = case.slots, targets = {}, totalWeight = 0,
                     unavailableWeight = 0, healthy = true, healthThreshold = 0 }
  for _, t in ipairs(case.targets) do
    -- targets.lua load_targets_into_memory + balancers.lua addAddress
    local target = { target = t.ip .. ":" .. t.port, name = t.ip, port = t.port,
                     weight = t.weight, addresses = {}, totalWeight = 0,
                     unavailableWeight = 0, balancer = balancer }
    local addr = { ip = t.ip, port = t.port, weight = t.weight, target = target,
                   ipType = t.ip:find(":", 1, true) and "ipv6" or "ipv4",
                   available = true, disabled = false,
                   hostHeader = nil }
    target.addresses[1] = addr
    target.totalWeight = target.totalWeight + t.weight
    balancer.totalWeight = balancer.totalWeight + t.weight
    balancer.targets[#balancer.targets + 1] = target
  end

  local algo = consistent_hashing.new({ balancer = balancer, upstream = {} })
  local P = algo.points
  local failed = #crit_log > 0
  out:write("CASE\t", case.name, "\t", P, "\t", failed and 1 or 0, "\n")

  -- points actually on the wheel, per address
  local pts = {}
  for idx = 1, P do
    local a = algo.continuum[idx]
    if a then pts[label(a)] = (pts[label(a)] or 0) + 1 end
  end
  for l, n in pairs(pts) do out:write("POINTS\t", l, "\t", n, "\n") end

  -- wheel share: for every wheel index, where Kong's real getPeer ends up
  -- (a handle with hashValue preset makes getPeer start at that index)
  if not failed then
    local own = {}
    for idx = 1, P do
      local ip, port, _, handle = algo:getPeer(false, { retryCount = 0, hashValue = idx }, nil)
      local l = ip and label(handle.address) or "none"
      own[l] = (own[l] or 0) + 1
    end
    for l, n in pairs(own) do out:write("OWN\t", l, "\t", n, "\n") end
  end

  -- key lookups through Kong's real getPeer
  for _, key in ipairs(case.keys) do
    local h = xxhash32(tostring(key))
    local ip, port_or_err, _, handle = algo:getPeer(false, nil, key)
    local res = ip and ("OK\t" .. label(handle.address)) or ("ERR\t" .. tostring(port_or_err))
    out:write("KEY\t", hex(key), "\t", string.format("%.0f", h), "\t",
              handle and handle.hashValue or (h % P + 1), "\t", res, "\n")
  end
end
