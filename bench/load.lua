-- wrk script for bench/http.py: rotate over pre-built requests (one per line of the file
-- given after `--`: path <TAB> bearer token <TAB> JSON body), count GraphQL errors, and
-- print the figures as one JSON line.

local requests = {}
local index = 0
local graphql_errors = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    local path, token, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = {
      ["Content-Type"] = "application/json",
      ["Accept"] = "application/graphql-response+json, application/json",
      ["Authorization"] = "Bearer " .. token,
    }
    table.insert(requests, wrk.format("POST", path, headers, body))
  end
  -- Each connection's thread starts somewhere else in the list.
  index = math.random(#requests) - 1
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function response(status, headers, body)
  if status == 200 and body:find('"errors"', 1, true) then
    graphql_errors = graphql_errors + 1
  end
end

function done(summary, latency, _)
  local errors = 0
  for _, thread in ipairs(threads) do
    errors = errors + (thread:get("graphql_errors") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "non2xx": %d, ' ..
    '"socket_errors": %d, "graphql_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout, errors))
end
