-- wrk script of bench/http/run.py: one endpoint per run, a JSON summary on stdout.
--
--   wrk ... -s bench/http/wrk.lua URL -- METHOD CREDENTIAL [BODY ...]
--
-- METHOD is GET or POST; CREDENTIAL a bearer token, or "-" for none. With several
-- BODY arguments each thread sends them in turn (the ops benchmark alternates two
-- updates, so every write changes the world and keeps it valid).

local requests_ = {}
local next_ = 0

function init(args)
  local method, credential = args[1], args[2]
  wrk.method = method
  if credential ~= "-" then
    wrk.headers["Authorization"] = "Bearer " .. credential
  end
  if #args > 2 then
    wrk.headers["Content-Type"] = "application/json"
    for i = 3, #args do
      requests_[#requests_ + 1] = wrk.format(method, nil, nil, args[i])
    end
  else
    requests_[1] = wrk.format(method)
  end
end

function request()
  next_ = next_ % #requests_ + 1
  return requests_[next_]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
