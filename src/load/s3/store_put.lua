-- Raw PUTs of one image straight to the object store's bucket, a new key per request: the baseline of
-- the server's uploads in bench_s3.py. The store runs without signature checks (StoreServer.java).
--   IMAGE=path BUCKET=bench wrk -t2 -c32 -d10s -s src/load/s3/store_put.lua http://127.0.0.1:PORT
local body, bucket
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(os.getenv("IMAGE"), "rb"))
  body = f:read("*a")
  f:close()
  bucket = os.getenv("BUCKET") or "bench"
end

function request()
  counter = counter + 1
  return wrk.format("PUT", "/" .. bucket .. "/put/" .. (id or 0) .. "-" .. counter .. ".png",
    { ["Content-Type"] = "image/png" }, body)
end
