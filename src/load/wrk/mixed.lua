-- A mix of authenticated uploads and public GETs of the same users' avatars.
--   TOKENS=tokens.txt [READ_PERCENT=80] [IMAGE=path] wrk -t2 -c64 -d30s -s src/load/wrk/mixed.lua http://127.0.0.1:8080
-- Run from the project root. Upload every user once first (upload.lua), or early GETs answer 404.
package.path = "src/load/wrk/?.lua;" .. package.path
local common = require("common")
local reads = tonumber(os.getenv("READ_PERCENT") or "80")

common.run(function(user, n, body, ctype)
  if (n * 37) % 100 < reads then
    return wrk.format("GET", "/users/" .. user.id .. "/avatar")
  end
  return wrk.format("PUT", "/users/" .. user.id .. "/avatar",
    { ["Authorization"] = "Bearer " .. user.token, ["Content-Type"] = ctype }, body)
end)
