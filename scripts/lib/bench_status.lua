-- wrk script for scripts/bench (portal): counts the HTTP status of every response and prints, at the end,
-- one line "statuses: 200=N 303=M ..." that the benchmark reads (a login redirect counts as 3xx, which
-- wrk's own "Non-2xx or 3xx" line would not reveal).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses") or {}) do
      total[status] = (total[status] or 0) + count
    end
  end
  local codes = {}
  for status in pairs(total) do table.insert(codes, status) end
  table.sort(codes)
  local parts = {}
  for _, status in ipairs(codes) do table.insert(parts, status .. "=" .. total[status]) end
  io.write("statuses: " .. table.concat(parts, " ") .. "\n")
end
