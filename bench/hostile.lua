-- One hostile client (wrk, one connection): cycles through the worst documents the
-- published limits let through, each made new (never cached) by a counter. It comes
-- through the trusted proxy as HOSTILE_CLIENT (X-Forwarded-For), so it has one budget;
-- once that is spent, the same loop is an over-budget flood. Prints status counts.
local client = os.getenv("HOSTILE_CLIENT")
TOKENS = tonumber(os.getenv("HOSTILE_TOKENS") or "990")
local counter = 0
local kinds = {}
local threads = {}
answered, limited, failed = 0, 0, 0  -- globals: done() reads them from each thread

local function escape(text)
  return (text:gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("\n", "\\n"))
end

-- Each kind returns the JSON body for request n; big parts are escaped once, here.
local spaces = string.rep(" ", 1000000)
local letters = string.rep("x", 1000000)
local names = string.rep("name ", TOKENS - 10)
local objects = escape(string.rep('page(urlPath: "/") { title url } ', 150))
local fan = {"{ ...F0 }"}
for i = 0, 23 do
  fan[#fan + 1] = string.format("fragment F%d on Query { ...F%d ...F%d }", i, i + 1, i + 1)
end
fan[#fan + 1] = "fragment F24 on Query { site { name } }"
fan = table.concat(fan, " ")

kinds[1] = function(n)  -- the same field side by side (quadratic overlap check)
  return '{"query":"# ' .. n .. '\\n{ site { ' .. names .. '} }"}'
end
kinds[2] = function(n)  -- fragments spread twice per level: 2^24 selections once expanded
  return '{"query":"# ' .. n .. '\\n' .. fan .. '"}'
end
-- The megabyte bodies are refused by their size before any byte is read (413), so
-- they need not be new each time: made once, they cost this client no memcpy per
-- request (on a shared 2-core machine, that copying would be the client's load on us).
local whitespace_body = '{"query":"{ site { name } }' .. spaces .. '"}'
local string_body = '{"query":"{ redirect(path: \\"/' .. letters .. '\\") { target } }"}'
kinds[3] = function(n)  -- 1 MB of whitespace
  return whitespace_body
end
kinds[4] = function(n)  -- a 1 MB string literal
  return string_body
end
kinds[5] = function(n)  -- as many tokens as allowed, then a syntax error: the longest parse
  return '{"query":"{ site { ' .. string.rep("n" .. n .. " ", TOKENS) .. '}"}'
end
kinds[6] = function(n)  -- the same object side by side, with arguments to compare
  return '{"query":"# ' .. n .. '\\n{ ' .. objects .. '}"}'
end

local formatted = {}  -- whole requests of the kinds whose body never changes

function request()
  counter = counter + 1
  local kind = counter % #kinds + 1
  if formatted[kind] then
    return formatted[kind]
  end
  local made = wrk.format("POST", "/graphql", {
    ["Content-Type"] = "application/json",
    ["X-Forwarded-For"] = client,
  }, kinds[kind](counter))
  if kind == 3 or kind == 4 then
    formatted[kind] = made
  end
  return made
end

function setup(thread)
  threads[#threads + 1] = thread
end

function response(status, headers, body)
  if status == 429 then
    limited = limited + 1
  elseif status < 500 then
    answered = answered + 1  -- refused with a code (400/413) or answered (200)
  else
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local a, l, f = 0, 0, 0
  for _, thread in ipairs(threads) do
    a, l, f = a + thread:get("answered"), l + thread:get("limited"), f + thread:get("failed")
  end
  io.write(string.format('HOSTILE {"requests": %d, "answered": %d, "rate_limited": %d, "server_errors": %d, '
    .. '"p50_ms": %.3f, "p99_ms": %.3f}\n', summary.requests, a, l, f,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
