-- Shared by the wrk scripts: the users of a tokens file ("id token" per line, as written by
-- `java -jar target/avatar-server.jar users create --tokens FILE ...`), the image to send, and the
-- wrk hooks. A script only says how to build its request from a user: common.run(build).
local M = {}

function M.users()
  local path = os.getenv("TOKENS")
  if path == nil or path == "" then
    error("set TOKENS to a tokens file (java -jar target/avatar-server.jar users create --count N --tokens FILE --url URL)")
  end
  local users = {}
  for line in io.lines(path) do
    local id, token = line:match("^%s*(%d+)%s+(%S+)")
    if id then
      users[#users + 1] = { id = id, token = token }
    end
  end
  if #users == 0 then
    error("no 'id token' lines in " .. path)
  end
  return users
end

local types = { jpg = "image/jpeg", jpeg = "image/jpeg", png = "image/png", gif = "image/gif", webp = "image/webp" }

function M.image()
  local path = os.getenv("IMAGE") or "src/test/resources/fixtures/images/avatar-256.jpg"
  local f = assert(io.open(path, "rb"))
  local body = f:read("*a")
  f:close()
  local ext = path:match("%.(%w+)$")
  local ctype = os.getenv("CONTENT_TYPE") or types[ext and ext:lower() or ""]
  if ctype == nil then
    error("cannot tell the type of " .. path .. "; set CONTENT_TYPE")
  end
  return body, ctype
end

-- Installs wrk's hooks: each thread starts at its own place in the user list and cycles over it;
-- build(user, n, body, ctype) returns the request; the statuses of all threads are printed at the end.
function M.run(build)
  local threads = {}
  local users, body, ctype, n
  statuses = {}

  function setup(thread)
    thread:set("first", #threads * 7919)
    table.insert(threads, thread)
  end

  function init(args)
    users = M.users()
    body, ctype = M.image()
    n = first or 0
  end

  function request()
    n = n + 1
    return build(users[(n % #users) + 1], n, body, ctype)
  end

  function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
  end

  function done(summary, latency, requests)
    M.report(threads, summary, latency)
  end
end

-- Prints the HTTP statuses all threads saw (a run with 4xx/5xx is not a clean benchmark), then one
-- machine-readable line for the benchmark runner (src/load/bench/bench.py).
function M.report(threads, summary, latency)
  local totals = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      totals[status] = (totals[status] or 0) + count
    end
  end
  local line = "statuses:"
  for status, count in pairs(totals) do
    line = line .. string.format(" %d=%d", status, count)
  end
  io.write(line .. "\n")
  local ok = 0
  for status, count in pairs(totals) do
    if status >= 200 and status < 300 then
      ok = ok + count
    end
  end
  local e = summary.errors
  io.write(string.format("RESULT requests=%d ok=%d duration_us=%d p50_us=%d p99_us=%d socket_errors=%d\n",
    summary.requests, ok, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout))
end

return M
