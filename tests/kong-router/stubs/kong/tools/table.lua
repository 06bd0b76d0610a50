-- shallow_copy, as Kong 3.10 kong/tools/table.lua has it.
return {
  shallow_copy = function(orig)
    local copy = {}
    for k, v in pairs(orig) do
      copy[k] = v
    end
    return copy
  end,
}
