-- POSTs the ArticlePage contract operation, rotating over the article paths in
-- BENCH_PATHS (one per line); prints latency percentiles as JSON when done.
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

function request()
  counter = counter % #bodies + 1
  return wrk.format("POST", "/graphql", {["Content-Type"] = "application/json"}, bodies[counter])
end

function done(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "errors": %d, "non2xx": %d, "p50_ms": %.3f, "p99_ms": %.3f}\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
