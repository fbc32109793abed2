-- GETs the ArticlePage operation by its persisted-document id, rotating over the
-- article paths in BENCH_PATHS (one per line), as a frontend with persisted queries
-- over GET does; prints latency percentiles and the X-Cache tally as JSON when done.
-- BENCH_DOCUMENT_ID is `sha256:<hex>` of the registered ArticlePage operation.
local urls = {}
local counter = 0
local tally = {}

local function escape(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  local id = escape(os.getenv("BENCH_DOCUMENT_ID"))
  for path in io.lines(os.getenv("BENCH_PATHS")) do
    urls[#urls + 1] = "/graphql?documentId=" .. id .. "&variables=" .. escape('{"urlPath":"' .. path .. '"}')
  end
  counter = math.random(#urls)
end

local readers = {}
for i = 1, 1000 do
  readers[i] = string.format("10.%d.%d.%d", i % 7, math.floor(i / 7) % 250, i % 250 + 1)
end

function request()
  counter = counter % #urls + 1
  return wrk.format("GET", urls[counter], {
    ["Accept"] = "application/graphql-response+json, application/json",
    ["X-Forwarded-For"] = readers[counter % #readers + 1],
  })
end

function done(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "errors": %d, "non2xx": %d, "p50_ms": %.3f, "p99_ms": %.3f}\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
