-- The benchmark's baseline: the same bodies PUT to nginx's WebDAV module (temporary file, then
-- rename), or the same files served back by GET, cycling over FILES names.
--   [IMAGE=path] [METHOD=GET] [FILES=256] wrk -t2 -c64 -d30s -s src/load/wrk/nginx-dav.lua http://127.0.0.1:18090
-- Run from the project root; src/load/bench/bench.py configures nginx for it.
package.path = "src/load/wrk/?.lua;" .. package.path
local common = require("common")
local method = os.getenv("METHOD") or "PUT"
local files = tonumber(os.getenv("FILES") or "256")

-- No tokens file: common.run's users are the file names here.
common.users = function()
  local names = {}
  for i = 0, files - 1 do
    names[#names + 1] = { id = tostring(i) }
  end
  return names
end

common.run(function(file, n, body, ctype)
  if method == "GET" then
    return wrk.format("GET", "/files/" .. file.id .. ".img")
  end
  return wrk.format("PUT", "/dav/" .. file.id .. ".img", { ["Content-Type"] = ctype }, body)
end)
