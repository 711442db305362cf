-- Authenticated PUTs of a real image, cycling over the users of a tokens file.
--   TOKENS=tokens.txt [IMAGE=path] wrk -t2 -c64 -d30s -s src/load/wrk/upload.lua http://127.0.0.1:8080
-- Run from the project root.
package.path = "src/load/wrk/?.lua;" .. package.path
local common = require("common")

common.run(function(user, n, body, ctype)
  return wrk.format("PUT", "/users/" .. user.id .. "/avatar",
    { ["Authorization"] = "Bearer " .. user.token, ["Content-Type"] = ctype }, body)
end)
