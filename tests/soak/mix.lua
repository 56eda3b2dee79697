-- wrk script for tests/soak/soak.sh: a mix of the tutorial's valid request
-- (70 %) and bad requests (30 %, evenly), each checked as it comes back.
--
-- Environment: BODY (the valid request body), ANSWER (the known-good answer
-- bytes, fetched once before the soak), KEY (the endpoint's key), ENDPOINT
-- ("/endpoint-online-1"), MAX_BODY (score.fcgi's --max-body).
--
-- wrk answers out of order across connections, so each request carries
-- x-request-id "soak-KIND", which score.fcgi echoes: the answer names the
-- kind it answers, and so the status and body it must have.  An answer
-- without a known id (from lighttpd itself, say) counts as unknown.
local function slurp(path)
	local f = assert(io.open(path, "rb"))
	local s = f:read("*a")
	f:close()
	return s
end

local good = slurp(os.getenv("BODY"))
local answer = slurp(os.getenv("ANSWER"))
local key = os.getenv("KEY")
local endpoint = os.getenv("ENDPOINT")
local max_body = tonumber(os.getenv("MAX_BODY"))

-- name, share of requests (percent), expected status, path, body,
-- Content-Type, Authorization
local kinds = {
	{ "valid", 70, 200, "/score", good, "application/json", "Bearer " .. key },
	-- cut in the middle of the numbers
	{ "malformed_json", 30 / 7, 400, "/score", good:sub(1, math.floor(#good / 2)), "application/json", "Bearer " .. key },
	-- a column the model does not have in place of col_0
	{ "wrong_columns", 30 / 7, 400, "/score", (good:gsub('"col_0"', '"col_x"', 1)), "application/json", "Bearer " .. key },
	-- NaN (not JSON) as the first number of the first row
	{ "nan", 30 / 7, 400, "/score", (good:gsub('("data":%[%[)[^,]+', "%1NaN", 1)), "application/json", "Bearer " .. key },
	-- valid JSON, one byte over --max-body
	{ "oversize", 30 / 7, 413, "/score", good .. string.rep(" ", max_body + 1 - #good), "application/json", "Bearer " .. key },
	{ "missing_key", 30 / 7, 401, "/score", good, "application/json", nil },
	{ "wrong_key", 30 / 7, 401, "/score", good, "application/json", "Bearer " .. key:sub(1, -2) .. (key:sub(-1) == "A" and "B" or "A") },
	{ "wrong_content_type", 30 / 7, 415, "/score", good, "text/plain", "Bearer " .. key },
}

local threads = {}
local nthreads = 0
function setup(thread)
	nthreads = nthreads + 1
	thread:set("id", nthreads)
	table.insert(threads, thread)
end

local requests, cumulative, by_id
function init(args)
	math.randomseed(os.time() * 1000 + id)
	requests, cumulative, by_id = {}, {}, {}
	n, bad_status, wrong, s5xx, unknown = {}, {}, 0, 0, 0
	local c = 0
	for i, k in ipairs(kinds) do
		local headers = { ["Content-Type"] = k[6], ["x-request-id"] = "soak-" .. k[1] }
		if k[7] then headers["Authorization"] = k[7] end
		requests[i] = wrk.format("POST", endpoint .. k[4], headers, k[5])
		c = c + k[2]
		cumulative[i] = c
		by_id["soak-" .. k[1]] = i
		n[k[1]], bad_status[k[1]] = 0, 0
	end
end

function request()
	local r = math.random() * cumulative[#cumulative]
	for i = 1, #kinds do
		if r < cumulative[i] then return requests[i] end
	end
	return requests[#kinds]
end

function response(status, headers, body)
	if status >= 500 then s5xx = s5xx + 1 end
	local i = by_id[headers["x-request-id"] or ""]
	if not i then
		unknown = unknown + 1
		return
	end
	local k = kinds[i]
	n[k[1]] = n[k[1]] + 1
	if status ~= k[3] then
		bad_status[k[1]] = bad_status[k[1]] + 1
	elseif i == 1 and body ~= answer then
		wrong = wrong + 1
	end
end

function done(summary, latency, reqs)
	local tn, tbad, twrong, t5xx, tunknown = {}, {}, 0, 0, 0
	for _, t in ipairs(threads) do
		for name, v in pairs(t:get("n")) do tn[name] = (tn[name] or 0) + v end
		for name, v in pairs(t:get("bad_status")) do tbad[name] = (tbad[name] or 0) + v end
		twrong = twrong + t:get("wrong")
		t5xx = t5xx + t:get("s5xx")
		tunknown = tunknown + t:get("unknown")
	end
	for _, k in ipairs(kinds) do
		io.write(string.format("KIND %s %d %d %d\n", k[1], k[3], tn[k[1]] or 0, tbad[k[1]] or 0))
	end
	local e = summary.errors
	io.write(string.format("WRONG_ANSWERS %d\nS5XX %d\nUNKNOWN %d\n", twrong, t5xx, tunknown))
	io.write(string.format("SOCKET_ERRORS %d connect %d read %d write %d timeout %d\n",
		e.connect + e.read + e.write + e.timeout, e.connect, e.read, e.write, e.timeout))
	io.write(string.format("REQUESTS %d %.1f %.1f %.3f %.3f\n", summary.requests, summary.duration / 1e6,
		summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
