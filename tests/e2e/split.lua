-- wrk script for tests/e2e/endpoints.sh: POST the BODY file with
-- "Authorization: Bearer $KEY" and count the answers by the deployment that
-- gave them (azureml-model-deployment) and the non-200s.
local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("KEY")

local threads = {}
function setup(thread) table.insert(threads, thread) end

function init(args)
	counts = {}
	bad = 0
end

function response(status, headers, body)
	if status ~= 200 then bad = bad + 1 end
	local d = headers["azureml-model-deployment"] or "none"
	counts[d] = (counts[d] or 0) + 1
end

function done(summary, latency, requests)
	local total, nbad = {}, 0
	for _, t in ipairs(threads) do
		for k, v in pairs(t:get("counts")) do total[k] = (total[k] or 0) + v end
		nbad = nbad + t:get("bad")
	end
	for k, v in pairs(total) do io.write(string.format("DEPLOYMENT %s %d\n", k, v)) end
	io.write(string.format("BAD %d\nERRORS %d\n", nbad, summary.errors.connect + summary.errors.read +
		summary.errors.write + summary.errors.timeout + summary.errors.status))
end
