-- POSTs the ArticlePage contract operation, rotating over the article paths in
-- BENCH_PATHS (one per line); prints latency percentiles as JSON when done.
-- Requests arrive as from a CDN in front of the service: X-Forwarded-For names
-- one of 1,000 readers, so each reader's cost budget is what gets spent.
local bodies = {}
local counter = 0

function init(args)
  local query = io.open(os.getenv("BENCH_QUERY_FILE")):read("*a")
  query = query:gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("\n", "\\n")
  for path in io.lines(os.getenv("BENCH_PATHS")) do
    bodies[#bodies + 1] = '{"query":"' .. query .. '","variables":{"urlPath":"' .. path .. '"}}'
  end
  counter = math.random(#bodies)
end

local readers = {}
for i = 1, 1000 do
  readers[i] = string.format("10.%d.%d.%d", i % 7, math.floor(i / 7) % 250, i % 250 + 1)
end

function request()
  counter = counter % #bodies + 1
  return wrk.format("POST", "/graphql", {
    ["Content-Type"] = "application/json",
    ["X-Forwarded-For"] = readers[counter % #readers + 1],
  }, bodies[counter])
end

function done(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "errors": %d, "non2xx": %d, "p50_ms": %.3f, "p99_ms": %.3f}\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
