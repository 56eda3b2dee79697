-- wrk script: POST one body file (BODY env var) as JSON (or as CONTENT_TYPE,
-- when set) to the URL wrk is given, and print the figures bench/http.sh reads: requests/s, p50 and
-- p99 latency, non-2xx.
local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = os.getenv("CONTENT_TYPE") or "application/json"
-- EXTRA_HEADER, "Name: value": one more header (the V2 binary extension's
-- Inference-Header-Content-Length).
local extra = os.getenv("EXTRA_HEADER")
if extra and extra ~= "" then
	local name, value = extra:match("^([^:]+):%s*(.*)$")
	wrk.headers[name] = value
end

function done(summary, latency, requests)
	local secs = summary.duration / 1e6
	io.write(string.format("RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f non2xx=%d errors=%d\n",
		summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
		summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write +
		summary.errors.timeout))
end
