#!/usr/bin/env bash
# Device checks that need a machine unlike the CI one (never run in CI):
# 1. local-job CPU and memory limits through cgroup v2 (the CI machine has cgroup v1);
# 2. the serving benchmark on a quiet machine, every process pinned to 2 cores (`taskset -c 0,1`) to stand in for
#    an idle 2-core machine; no `mlflow models serve` there (no test venv).
# Needs .devcheck/bundle.tar.xz and .devcheck/serving-bench.tar.xz: `bash test/device/make-bundle.sh --serving-bench`.
set -u
B=/tmp/mlops-b; H=/tmp/limits-home; rm -rf "$B" "$H"; mkdir -p "$B"
tar -xJf .devcheck/bundle.tar.xz -C "$B" && tar -xJf .devcheck/serving-bench.tar.xz -C "$B" || exit 1
# A newer build of the backend alone, carried uncompressed beside the bundle.
[ -d .devcheck/dist/backend ] && cp -r .devcheck/dist/backend "$B/dist/"
export PATH="$B/bin:$PATH"
M() { node "$B/dist/backend/cli.mjs" --home "$H" "$@"; }
field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log(JSON.stringify(eval("("+process.argv[1]+")")))})' "$1"; }

echo "== cgroups"; stat -fc %T /sys/fs/cgroup; cat /proc/self/cgroup; nproc; uptime
own="/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)"
for d in /sys/fs/cgroup "$own"; do echo "$d: controllers [$(cat $d/cgroup.controllers)] subtree [$(cat $d/cgroup.subtree_control)]"; done
M serve > /tmp/serve.out 2>/tmp/serve.err &
for _ in $(seq 100); do [ -s "$H/backend.json" ] && break; sleep 0.1; done
BURN='import os, time
t0 = time.time(); c0 = time.process_time()
while time.time() - t0 < 3: pass
cg = open("/proc/self/cgroup").read().strip()
path = "/sys/fs/cgroup" + cg.split(":")[-1]
cpumax = open(path + "/cpu.max").read().strip() if os.path.exists(path + "/cpu.max") else "?"
print(f"cgroup {cg} cpu.max {cpumax} cpu_s {time.process_time() - c0:.2f} wall_s {time.time() - t0:.2f}")'
echo "== 1a. --cpus 0.5 --memory 256m, 3 s of busy-looping"
J=$(M train --local --cpus 0.5 --memory 256m --name cpu-half -d --json -- python3 -c "$BURN" | field j.job_id | tr -d '"')
for _ in $(seq 60); do s=$(M jobs show "$J" | field j.status); case $s in *queued*|*running*) sleep 0.5;; *) break;; esac; done
M jobs show "$J" | field '{status:j.status,reason:j.reason,exit:j.exit_code,limits:j.limits}'; M jobs logs "$J"
echo "== 1b. --memory 80m, the job allocates 400 MB"
J=$(M train --local --memory 80m --name oom -d --json -- python3 -c 'import time
b = b"x" * (400 * 2**20)
time.sleep(30)' | field j.job_id | tr -d '"')
for _ in $(seq 60); do s=$(M jobs show "$J" | field j.status); case $s in *queued*|*running*) sleep 0.5;; *) break;; esac; done
M jobs show "$J" | field '{status:j.status,reason:j.reason,exit:j.exit_code,message:j.message,limits:j.limits}'
kill %1; wait

[ "${SKIP_SERVING:-}" = 1 ] && exit 0
echo "== 2. serving benchmark pinned to 2 cores"; uptime
cd "$B" && MLOPS_BENCH_BUNDLED=1 SERVING_BENCH_TRAINED="$B/trained" SERVING_BENCH_NO_MLFLOW=1 SERVING_BENCH_SECONDS=${SERVING_BENCH_SECONDS:-10} \
  taskset -c 0,1 node test/integration/serving/serving-bench.mjs
