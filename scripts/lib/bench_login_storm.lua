-- wrk script for scripts/bench (portal): a login storm. Every request is a real POST /login (bcrypt on the
-- server), cycling through four attempts: the right password of a user of GOOD, a wrong password for a
-- user of BAD (who soon gets locked out; the server still checks the password), an unknown identifier
-- (checked against the server's decoy hash) and another wrong password for BAD.
--   wrk ... -s bench_login_storm.lua URL -- HOST CSRF PASSWORD GOOD BAD CLOSE
-- HOST: the tenant's Host header; CSRF: a CSRF secret (sent as cookie and as the _csrf field);
-- GOOD, BAD: comma-separated identifiers; CLOSE: "close" to send "Connection: close" (one TCP
-- connection, hence one source address under the benchmark's preload, per attempt), else "keep".
-- Prints "statuses: 303=N 401=M ..." at the end (303: logged in, 401: rejected, 429: throttled).
-- response() and done() (the "statuses:" line) come from bench_status.lua, next to this file.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "bench_status.lua")
local count_statuses_of = setup
local thread_count = 0
local counter = 0

function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
  count_statuses_of(thread)
end

local function split(text)
  local items = {}
  for item in string.gmatch(text or "", "[^,]+") do table.insert(items, item) end
  return items
end

local function encode(text)
  return (string.gsub(text, "[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  statuses = {}
  host, csrf, password = args[1], args[2], args[3]
  good, bad = split(args[4]), split(args[5])
  headers = {
    ["Host"] = host,
    ["Cookie"] = "sportello_csrf=" .. csrf,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }
  if args[6] == "close" then headers["Connection"] = "close" end
  counter = (id or 0) * 1000003
end

function request()
  counter = counter + 1
  local kind = counter % 4
  local identifier, secret
  if kind == 0 and #good > 0 then
    identifier, secret = good[math.floor(counter / 4) % #good + 1], password
  elseif kind == 2 or #bad == 0 then
    identifier, secret = "nobody" .. counter .. "@storm.example", "Wrong-" .. counter
  else
    identifier, secret = bad[counter % #bad + 1], "Sbagliata-" .. counter
  end
  local body = "_csrf=" .. encode(csrf) .. "&identifier=" .. encode(identifier) .. "&password=" .. encode(secret) .. "&next=%2F"
  return wrk.format("POST", "/login", headers, body)
end
