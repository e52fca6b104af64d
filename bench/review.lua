-- review.lua: wrk script posting one AdmissionReview the way kube-apiserver does (POST with the
-- webhook's ?timeout, JSON, its User-Agent, over kept-alive TLS connections), and printing one
-- machine-readable RESULT line for bench/run.sh.
--   SA_BENCH_REVIEW  file holding the AdmissionReview to post
--   SA_BENCH_PATH    /mutate or /validate
local file = assert(os.getenv("SA_BENCH_REVIEW"), "SA_BENCH_REVIEW is not set")
local f = assert(io.open(file, "rb"))
local body = f:read("*a")
f:close()

wrk.method = "POST"
wrk.path = (os.getenv("SA_BENCH_PATH") or "/mutate") .. "?timeout=10s"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, */*"
wrk.headers["User-Agent"] = "kube-apiserver-admission"

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d rps=%.1f p50_us=%d p99_us=%d socket_errors=%d non2xx=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
