-- See LICENSE file for copyright and license details.
-- wrk script: POST the signed payload, the same for every request. The
-- harness writes the body to BENCH_BODY and its signature to BENCH_SIG.
local function slurp(path)
	local f = assert(io.open(path, "rb"))
	local s = f:read("*a")
	f:close()
	return s
end

wrk.method = "POST"
wrk.body = slurp(os.getenv("BENCH_BODY"))
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Webhook-Signature"] = (slurp(os.getenv("BENCH_SIG")):gsub("%s+$", ""))

-- One machine-readable line for the harness: req/s, p50 and p99 in ms,
-- the count of answers that were not 2xx or 3xx, the count of requests,
-- and the count of socket errors (connect, read, write, timeout).
function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("BENCH %.1f %.3f %.3f %d %d %d\n",
		summary.requests / (summary.duration / 1e6),
		latency:percentile(50) / 1000, latency:percentile(99) / 1000,
		e.status, summary.requests,
		e.connect + e.read + e.write + e.timeout))
end
