-- wrk script for the miss-heavy run: every request asks for a URL no proxy has seen, under
-- /miss/ where the origin answers any path with the same 1 KiB body. EC_BENCH_NONCE differs per
-- pass so a repetition (or the next peer) never finds an earlier pass's objects in a cache.
local prefix = "/miss/" .. (os.getenv("EC_BENCH_NONCE") or tostring(os.time())) .. "/"
local counter = 0

request = function()
  counter = counter + 1
  return wrk.format("GET", prefix .. counter)
end
