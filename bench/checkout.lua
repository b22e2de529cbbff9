-- wrk script: replays pre-signed checkout webhooks (made by make_events.py) against
-- POST /webhooks/checkout and counts 2xx and non-2xx answers, for bench/run.sh.
--
--   wrk -t T -c C -d <phase + drain>s -s checkout.lua URL -- PREFIX PHASE_SECONDS RATE T
--
-- PREFIX      request files, one per thread: PREFIX.0, PREFIX.1, ... ("<length>\n<raw request>")
-- PHASE       seconds during which new events are sent; wrk's -d is longer by a drain margin
-- RATE        0 for peak mode (every connection sends its next event as soon as the previous
--             answer arrives), or events per second across all threads (rate mode)
-- T           the number of wrk threads (each paces itself at RATE / T)
--
-- Why a drain: when wrk's -d runs out it abandons the requests still in flight, and the server
-- may commit them after wrk has stopped counting. Then the database would hold more activities
-- than wrk saw 2xx answers. So each thread stops *starting* requests after PHASE seconds
-- (delay() answers "an hour") and wrk keeps reading the answers of the in-flight ones until -d.
-- The event rate is measured over the sending phase (first request to last answer), not -d.
--
-- Rate mode (there is no wrk2 here): pacing is done with wrk's delay(), which runs before every
-- request. Each thread keeps a schedule of send slots spaced T / RATE seconds apart; a connection
-- that got its answer takes the next free slot and waits for it. In steady state each of the
-- C / T connections of a thread therefore waits about C / RATE seconds between requests, less the
-- latency it just spent, so the offered rate is RATE as long as the server keeps up. It is still a
-- closed loop: a connection never has two requests in flight, so when the server stalls the
-- requests that should have been sent meanwhile are sent late, and their waiting is not counted
-- as latency (coordinated omission). Slots that fell in the past are not caught up in a burst.
-- wrk 4 partly corrects its latency histogram for coordinated omission at the end of a run
-- (stats_correct with the mean interval per connection); the percentiles include that.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } cortex_bench_timespec;
int clock_gettime(int clock_id, cortex_bench_timespec *tp);
]]
local clock_buffer = ffi.new("cortex_bench_timespec")
local CLOCK_MONOTONIC = 1
local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock_buffer)
  return tonumber(clock_buffer.tv_sec) + tonumber(clock_buffer.tv_nsec) * 1e-9
end

local NEVER_MS = 3600 * 1000

---------------------------------------------------------------------------------------------
-- Main state: numbers the threads and adds up their counters at the end.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

---------------------------------------------------------------------------------------------
-- Thread state. Globals, so that done() can read them with thread:get.

ok = 0             -- 2xx answers
bad = 0            -- other answers
sent = 0           -- requests handed to wrk
statuses = ""      -- "status=count" of the non-2xx answers, for the report
first_error = ""   -- the body of the first non-2xx answer, for the report
exhausted = 0      -- 1 when this thread's request file ran out before the phase ended
fillers = 0        -- GET /healthz sent only if a reconnect found the file already empty
first_send = -1    -- monotonic seconds
last_answer = -1

local file, deadline, interval, next_slot
local queue, queue_head, queue_tail = {}, 1, 0
local delayed_once = false
local status_counts = {}
local FILLER = "GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n"

local function read_request()
  local length = file:read("*l")
  if not length then return nil end
  return file:read(tonumber(length))
end

function init(args)
  local prefix, phase, rate, thread_count = args[1], tonumber(args[2]), tonumber(args[3]), tonumber(args[4])
  file = assert(io.open(prefix .. "." .. id, "rb"))
  local start = now()
  deadline = start + phase
  if rate > 0 then
    interval = thread_count / rate
    next_slot = start
  end
end

-- Runs before every request of a connection: fetch the next event (so running out is known
-- before request() must return something) and decide how long to wait.
function delay()
  delayed_once = true
  local t = now()
  if t >= deadline or exhausted == 1 then return NEVER_MS end
  local request = read_request()
  if not request then
    exhausted = 1
    return NEVER_MS
  end
  queue_tail = queue_tail + 1
  queue[queue_tail] = request
  if not interval then return 0 end
  local slot = next_slot
  if slot < t then slot = t end
  next_slot = slot + interval
  return math.floor((slot - t) * 1000 + 0.5)
end

function request()
  local request
  if not delayed_once then
    -- wrk calls request() once in thread 0 before the load (before any delay()), only to
    -- inspect the request; that one is queued, not counted, and sent later like any other.
    request = read_request()
    if request then
      queue_tail = queue_tail + 1
      queue[queue_tail] = request
      return request
    end
    return FILLER
  end
  if queue_head <= queue_tail then
    request = queue[queue_head]
    queue[queue_head] = nil
    queue_head = queue_head + 1
  else
    -- wrk skips delay() when it re-sends after reconnecting a broken socket.
    request = read_request()
    if not request then
      exhausted = 1
      fillers = fillers + 1
      request = FILLER
    end
  end
  if first_send < 0 then first_send = now() end
  sent = sent + 1
  return request
end

function response(status, headers, body)
  last_answer = now()
  if status >= 200 and status < 300 then
    ok = ok + 1
  else
    bad = bad + 1
    status_counts[status] = (status_counts[status] or 0) + 1
    local parts = {}
    for code, count in pairs(status_counts) do table.insert(parts, code .. "=" .. count) end
    statuses = table.concat(parts, ",")
    if first_error == "" then first_error = string.sub(body or "", 1, 300) end
  end
end

---------------------------------------------------------------------------------------------
-- Main state again: one machine-readable line for run.sh. Latencies in microseconds.

local function quote(text)
  return '"' .. tostring(text):gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

function done(summary, latency, requests)
  local total = { ok = 0, bad = 0, sent = 0, exhausted = 0, fillers = 0 }
  local first, last = math.huge, -math.huge
  local statuses, first_error = {}, ""
  for _, thread in ipairs(threads) do
    for name, _ in pairs(total) do total[name] = total[name] + (thread:get(name) or 0) end
    local f, l = thread:get("first_send"), thread:get("last_answer")
    if f >= 0 and f < first then first = f end
    if l > last then last = l end
    if thread:get("statuses") ~= "" then table.insert(statuses, thread:get("statuses")) end
    if first_error == "" then first_error = thread:get("first_error") end
  end
  local span = (last > first) and (last - first) or 0
  local e = summary.errors
  io.write(string.format(
    'CORTEX_BENCH {"ok":%d,"bad":%d,"sent":%d,"answered":%d,"exhausted_threads":%d,"fillers":%d,' ..
    '"span_s":%.3f,"p50_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
    '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},"status_errors":%d,' ..
    '"statuses":%s,"first_error":%s}\n',
    total.ok, total.bad, total.sent, summary.requests, total.exhausted, total.fillers,
    span, latency:percentile(50), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.timeout, e.status,
    quote(table.concat(statuses, ",")), quote(first_error)))
end
