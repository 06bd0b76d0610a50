-- Runs Kong 3.10's kong/router/transform.lua unchanged on the routes of a cases file and prints,
-- per route after Kong's split by path, its expression and its priority as the uint64_t Kong
-- hands atc-router (`router_add_matcher(size_t priority, ...)`).
--
-- Usage: luajit kong_router.lua <cases.lua>; the cases file returns { { name = "...", route =
-- { ... } }, ... }, routes as Kong holds them (absent fields are nil, `null` is ngx.null).
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = dir .. "/src/?.lua;" .. dir .. "/stubs/?.lua;" .. package.path

local ffi = require("ffi")

-- The few ngx functions transform.lua reaches: ngx.null, logging (unused here) and re.gsub
-- (looked up at load, used only for expressions routes).
ngx = {
  null = newproxy(false),
  log = function() end,
  ERR = 4,
  WARN = 5,
  re = { gsub = function(s) return s end },
}
null = ngx.null

local transform = require("kong.router.transform")

local cases = dofile(arg[1])
local out = {}
for _, case in ipairs(cases) do
  local split = transform.split_routes_and_services_by_path({ { route = case.route } })
  out[#out + 1] = "CASE " .. case.name .. " " .. #split
  for _, rs in ipairs(split) do
    local r = rs.route
    local paths = {}
    for i, p in ipairs(type(r.paths) == "table" and r.paths or {}) do
      paths[i] = p
    end
    out[#out + 1] = "PATHS " .. table.concat(paths, "\t")
    out[#out + 1] = "EXPR " .. transform.get_expression(r)
    local p = transform.get_priority(r)
    local u = tostring(ffi.cast("uint64_t", p)):gsub("ULL$", "")
    out[#out + 1] = "PRIO " .. u
  end
end
io.write(table.concat(out, "\n"), "\n")
